// Package demo builds the sample shop database `godwit demo` migrates and the
// write workload that keeps changing it meanwhile, as an application would.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// Tables are the demo's tables with their keys, for comparing.
var Tables = []struct{ Name, Key string }{
	{"customers", "id"}, {"products", "id"}, {"orders", "id"}, {"order_items", "order_id, line"},
}

const schemaSQL = `
CREATE TABLE customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  country TEXT,
  signed_up TEXT NOT NULL,        -- ISO date
  balance REAL NOT NULL DEFAULT 0,
  avatar BLOB,
  note TEXT                       -- often NULL
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  price REAL NOT NULL,
  stock INTEGER NOT NULL,
  description TEXT
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  ordered_at TEXT NOT NULL,       -- ISO timestamp
  status TEXT NOT NULL,
  total REAL NOT NULL
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL,
  line INTEGER NOT NULL,
  product_id INTEGER NOT NULL,
  qty INTEGER NOT NULL,
  price REAL NOT NULL,
  PRIMARY KEY (order_id, line)
) WITHOUT ROWID;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX items_product ON order_items (product_id);`

var (
	first     = []string{"Ana", "Björn", "Chloé", "Dmitri", "Eşref", "Fatima", "Gül", "Hiroshi", "Inés", "Jürgen", "Kofi", "Łukasz", "Mei", "Nnamdi", "Óscar", "Priya", "Søren", "Thảo", "Uwe", "Zoë"}
	last      = []string{"Álvarez", "Brontë", "Çelik", "Dvořák", "Eriksen", "Fernández", "García", "Håkansson", "Ishikawa", "Jovanović", "Kowalski", "Lefèvre", "Müller", "Nakamura", "Ødegaard", "Papadopoulos", "Quiñones", "Rossi", "Šimić", "Østergaard"}
	countries = []string{"PT", "SE", "FR", "UA", "TR", "MA", "DE", "JP", "ES", "GH", "PL", "CN", "NG", "MX", "IN", "DK", "VN", "GR", "IT", "HR"}
	words     = []string{"steel", "oak", "linen", "ceramic", "wool", "bamboo", "copper", "glass", "cotton", "walnut", "☕", "🌿"}
	statuses  = []string{"new", "paid", "shipped", "delivered", "returned"}
)

// Open opens a SQLite file as the demo's application does.
func Open(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
}

// Generate creates the sample database at path with about rows rows in all.
func Generate(ctx context.Context, path string, rows int, seed uint64) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, schemaSQL); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	customers, products := rows/8, rows/40+10
	orders := rows / 4
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i := 1; i <= customers; i++ {
		var avatar, note any
		if i%3 == 0 {
			b := make([]byte, 16+r.IntN(48))
			for j := range b {
				b[j] = byte(r.IntN(256))
			}
			avatar = b
		}
		if i%4 == 0 {
			note = fmt.Sprintf("prefers %s — «%s»", words[r.IntN(len(words))], first[r.IntN(len(first))])
		}
		name := first[r.IntN(len(first))] + " " + last[r.IntN(len(last))]
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (id, name, email, country, signed_up, balance, avatar, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			i, name, fmt.Sprintf("customer%d@example.com", i), countries[r.IntN(len(countries))],
			time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(2000)).Format("2006-01-02"),
			float64(r.IntN(100000))/100, avatar, note); err != nil {
			return err
		}
	}
	for i := 1; i <= products; i++ {
		var desc any
		if i%5 != 0 {
			desc = strings.Repeat(words[r.IntN(len(words))]+" ", 1+r.IntN(8))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO products VALUES (?, ?, ?, ?, ?)`,
			i, fmt.Sprintf("%s %s №%d", words[r.IntN(len(words))], words[r.IntN(len(words))], i), 0.5+float64(r.IntN(20000))/100, r.IntN(500), desc); err != nil {
			return err
		}
	}
	line := 0
	for i := 1; i <= orders; i++ {
		n := 1 + r.IntN(4)
		total := 0.0
		for l := 1; l <= n; l++ {
			price := 0.5 + float64(r.IntN(20000))/100
			qty := 1 + r.IntN(5)
			total += price * float64(qty)
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_items VALUES (?, ?, ?, ?, ?)`, i, l, 1+r.IntN(products), qty, price); err != nil {
				return err
			}
			line++
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, customer_id, ordered_at, status, total) VALUES (?, ?, ?, ?, ?)`,
			i, 1+r.IntN(customers), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(600*24*3600))*time.Second).Format(time.RFC3339),
			statuses[r.IntN(len(statuses))], total); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Workload is the demo application writing to its database.
type Workload struct {
	stop    context.CancelFunc
	wg      sync.WaitGroup
	Commits atomic.Int64
	Refused atomic.Int64 // writes the fence refused after cutover
	Errors  atomic.Int64
}

// StartWorkload starts writers that place orders, pay and ship them, change
// customers and delete old items, until Stop or until the database refuses them.
func StartWorkload(path string, writers int, seed uint64) (*Workload, error) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Workload{stop: cancel}
	for k := 0; k < writers; k++ {
		db, err := Open(path)
		if err != nil {
			cancel()
			return nil, err
		}
		r := rand.New(rand.NewPCG(seed, uint64(k+10)))
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer db.Close()
			for ctx.Err() == nil {
				err := w.one(ctx, db, r)
				switch {
				case err == nil:
					w.Commits.Add(1)
				case strings.Contains(err.Error(), "fenced by godwit"):
					w.Refused.Add(1)
				case ctx.Err() == nil:
					w.Errors.Add(1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Duration(2+r.IntN(6)) * time.Millisecond):
				}
			}
		}()
	}
	return w, nil
}

func (w *Workload) one(ctx context.Context, db *sql.DB, r *rand.Rand) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var maxCustomer, maxOrder int64
	if err := tx.QueryRowContext(ctx, "SELECT max(id) FROM customers").Scan(&maxCustomer); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM orders").Scan(&maxOrder); err != nil {
		return err
	}
	switch p := r.IntN(100); {
	case p < 40: // a new order with its lines
		res, err := tx.ExecContext(ctx, `INSERT INTO orders (customer_id, ordered_at, status, total) VALUES (?, ?, 'new', 0)`,
			1+r.Int64N(maxCustomer), time.Now().UTC().Format(time.RFC3339))
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		for l := 1; l <= 1+r.IntN(3); l++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_items VALUES (?, ?, ?, ?, ?)`, id, l, 1+r.IntN(100), 1+r.IntN(3), 9.99); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET total = (SELECT sum(qty * price) FROM order_items WHERE order_id = ?) WHERE id = ?`, id, id); err != nil {
			return err
		}
	case p < 70: // an order moves on
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET status = ? WHERE id = ?`, statuses[r.IntN(len(statuses))], 1+r.Int64N(maxOrder)); err != nil {
			return err
		}
	case p < 85: // a customer changes
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET balance = round(balance + ?, 2), note = ? WHERE id = ?`,
			float64(r.IntN(2000)-1000)/100, fmt.Sprintf("updated %s ✓", time.Now().UTC().Format(time.TimeOnly)), 1+r.Int64N(maxCustomer)); err != nil {
			return err
		}
	case p < 95: // a new customer
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (name, email, country, signed_up, balance) VALUES (?, ?, ?, date('now'), 0)`,
			first[r.IntN(len(first))]+" "+last[r.IntN(len(last))], fmt.Sprintf("new%d.%d@example.com", time.Now().UnixNano(), r.IntN(1000)), countries[r.IntN(len(countries))]); err != nil {
			return err
		}
	default: // an old order is removed with its lines
		id := 1 + r.Int64N(maxOrder)
		if _, err := tx.ExecContext(ctx, `DELETE FROM order_items WHERE order_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM orders WHERE id = ?`, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Stop ends the workload and waits for the writers.
func (w *Workload) Stop() {
	w.stop()
	w.wg.Wait()
}

// Count returns the rows of every demo table.
func Count(ctx context.Context, path string) (int64, error) {
	db, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var total int64
	for _, t := range Tables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t.Name).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Compare reads every demo table from both files in key order, values with
// their exact types, and returns the rows compared and the rows that differ.
func Compare(ctx context.Context, source, target string) (rows, diffs int64, err error) {
	a, err := Open(source)
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	b, err := Open(target)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	for _, t := range Tables {
		ra, err := readAll(ctx, a, t.Name, t.Key)
		if err != nil {
			return 0, 0, err
		}
		rb, err := readAll(ctx, b, t.Name, t.Key)
		if err != nil {
			return 0, 0, err
		}
		rows += int64(len(ra))
		for i := 0; i < max(len(ra), len(rb)); i++ {
			if i >= len(ra) || i >= len(rb) || ra[i] != rb[i] {
				diffs++
			}
		}
	}
	return rows, diffs, nil
}

// readAll renders each row with its values' types, e.g. "integer:1|text:Ana".
func readAll(ctx context.Context, db *sql.DB, table, key string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY "+key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, v := range vals {
			fmt.Fprintf(&b, "%T:%v|", v, v)
		}
		out = append(out, b.String())
	}
	return out, rows.Err()
}
