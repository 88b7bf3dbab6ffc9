module leakscope.dev/generators/goroutineleak-ci

go 1.27
