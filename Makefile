.PHONY: build test bench-pg bench-freeze
build:
	go build ./cmd/godwit
test:
	scripts/test.sh
bench-pg:
	bench/pg.sh
bench-freeze:
	bench/pg-freeze.sh
