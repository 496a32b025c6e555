.PHONY: build test bench-pg bench-my bench-cross bench-freeze
build:
	go build ./cmd/godwit
test:
	scripts/test.sh
bench-pg:
	bench/pg.sh
bench-my:
	bench/my.sh
bench-cross:
	bench/cross.sh
bench-freeze:
	bench/pg-freeze.sh
