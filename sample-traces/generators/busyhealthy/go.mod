module example.com/busyhealthy

go 1.19

require example.com/leakbed v0.0.0

replace example.com/leakbed => ../leakbed
