// Package e2e holds godwit's end-to-end tests: they build cmd/godwit, run it
// as a child process against real PostgreSQL clusters, kill it with SIGKILL
// at random points, resume it, and compare source and target row by row.
//
// Run them with:
//
//	eval "$(scripts/testdb.sh up)"
//	go test ./test/e2e/ -v -count=1
//
// Without the clusters the tests skip, unless GODWIT_REQUIRE_DB=1. Replay a
// failure with GODWIT_SEED=<seed from the log>; GODWIT_E2E_RACE=1 builds the
// binary with -race; GODWIT_E2E_BIN=PATH tests a prebuilt binary;
// GODWIT_KEEP_DB=1 keeps the databases of failed tests;
// GODWIT_TEST_BIG_TXN=1000000,5000000 sets the sizes of the one-transaction
// memory test (scripts/test.sh sets these; default 200000).
//
// The fault tests kill the fault servers of scripts/testdb.sh (PostgreSQL
// cluster "fault", MariaDB "my-fault") and put a TCP proxy of their own
// (internal/testutil/netfault) between godwit and a server to cut or
// black-hole its connections.
package e2e
