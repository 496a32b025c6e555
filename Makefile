.PHONY: build test bench-pg
build:
	go build ./cmd/godwit
test:
	scripts/test.sh
bench-pg:
	bench/pg.sh
