module leakscope.example/loadtrace

go 1.22
