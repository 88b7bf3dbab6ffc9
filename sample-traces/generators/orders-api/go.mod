module leakscope.dev/orders-api

go 1.27
