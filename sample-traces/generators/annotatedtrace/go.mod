module leakscope.example/annotatedtrace

go 1.22
