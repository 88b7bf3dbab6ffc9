module leakscope.example/leakytrace

go 1.22
