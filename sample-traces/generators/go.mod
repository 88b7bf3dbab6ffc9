module leakscope.dev/generators

go 1.27
