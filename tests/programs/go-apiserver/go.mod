module keyhole.test/go-apiserver

go 1.19
