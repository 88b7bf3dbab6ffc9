module leakscope.example/busytrace

go 1.22
