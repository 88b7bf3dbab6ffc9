module leakscope.example/flightrec

go 1.25
