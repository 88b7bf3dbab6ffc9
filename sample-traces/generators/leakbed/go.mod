module example.com/leakbed

go 1.19
