// Package fakesql is an in-memory database/sql driver for the orderbook sample service.
//
// It understands the handful of statements the service sends (matched by their leading words,
// arguments bound positionally) and keeps rows in maps. It exists so that the service's
// goroutines look like those of a real program that talks to a database: *sql.DB with its
// connection opener and cleaner, pooled connections, rows and their context watchers.
package fakesql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store is the shared in-memory data behind every connection.
type Store struct {
	mu        sync.Mutex
	orders    map[string][]driver.Value // id -> id, acct, sym, qty, px, state
	positions map[string]map[string]int64
	latency   time.Duration
}

// NewStore returns an empty store whose every statement takes latency (a network round trip).
func NewStore(latency time.Duration) *Store {
	return &Store{
		orders:    make(map[string][]driver.Value),
		positions: make(map[string]map[string]int64),
		latency:   latency,
	}
}

// Connector opens connections to a Store; use it with sql.OpenDB.
type Connector struct{ store *Store }

// NewConnector returns a connector for store.
func NewConnector(store *Store) *Connector { return &Connector{store: store} }

// Connect implements driver.Connector.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := c.store.wait(ctx); err != nil {
		return nil, err
	}
	return &conn{store: c.store}, nil
}

// Driver implements driver.Connector.
func (c *Connector) Driver() driver.Driver { return drv{} }

type drv struct{}

func (drv) Open(string) (driver.Conn, error) {
	return nil, errors.New("fakesql: use sql.OpenDB(fakesql.NewConnector(store))")
}

type conn struct {
	store  *Store
	closed bool
}

var (
	_ driver.QueryerContext = (*conn)(nil)
	_ driver.ExecerContext  = (*conn)(nil)
	_ driver.Pinger         = (*conn)(nil)
)

func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{conn: c, query: query}, nil }
func (c *conn) Close() error                              { c.closed = true; return nil }
func (c *conn) Begin() (driver.Tx, error)                 { return tx{}, nil }
func (c *conn) Ping(ctx context.Context) error            { return c.store.wait(ctx) }

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.store.wait(ctx); err != nil {
		return nil, err
	}
	return c.store.exec(query, values(args))
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.store.wait(ctx); err != nil {
		return nil, err
	}
	return c.store.query(query, values(args))
}

type tx struct{}

func (tx) Commit() error   { return nil }
func (tx) Rollback() error { return nil }

type stmt struct {
	conn  *conn
	query string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return strings.Count(s.query, "?") }
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.conn.store.exec(s.query, args)
}
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.conn.store.query(s.query, args)
}

func values(named []driver.NamedValue) []driver.Value {
	out := make([]driver.Value, len(named))
	for i, n := range named {
		out[i] = n.Value
	}
	return out
}

// wait simulates the round trip to a database server; it honours the context like a good driver.
func (s *Store) wait(ctx context.Context) error {
	if s.latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(s.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type result int64

func (r result) LastInsertId() (int64, error) { return 0, errors.New("fakesql: no insert ids") }
func (r result) RowsAffected() (int64, error) { return int64(r), nil }

func (s *Store) exec(query string, args []driver.Value) (driver.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := strings.ToUpper(strings.TrimSpace(query))
	switch {
	case strings.HasPrefix(q, "INSERT INTO ORDERS"):
		if len(args) != 5 {
			return nil, fmt.Errorf("fakesql: insert orders wants 5 arguments, got %d", len(args))
		}
		id, _ := args[0].(string)
		row := append(append([]driver.Value(nil), args...), "open")
		s.orders[id] = row
		acct, _ := args[1].(string)
		sym, _ := args[2].(string)
		qty, _ := args[3].(int64)
		if s.positions[acct] == nil {
			s.positions[acct] = make(map[string]int64)
		}
		s.positions[acct][sym] += qty
		return result(1), nil
	case strings.HasPrefix(q, "UPDATE ORDERS SET STATE"):
		if len(args) != 2 {
			return nil, fmt.Errorf("fakesql: update orders wants 2 arguments, got %d", len(args))
		}
		id, _ := args[1].(string)
		row, ok := s.orders[id]
		if !ok {
			return result(0), nil
		}
		row[5] = args[0]
		return result(1), nil
	}
	return nil, fmt.Errorf("fakesql: unsupported statement %q", query)
}

func (s *Store) query(query string, args []driver.Value) (driver.Rows, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := strings.ToUpper(strings.TrimSpace(query))
	switch {
	case strings.HasPrefix(q, "SELECT ID, ACCT, SYM, QTY, PX, STATE FROM ORDERS WHERE ID"):
		id, _ := firstString(args)
		r := &rows{cols: []string{"id", "acct", "sym", "qty", "px", "state"}}
		if row, ok := s.orders[id]; ok {
			r.data = append(r.data, append([]driver.Value(nil), row...))
		}
		return r, nil
	case strings.HasPrefix(q, "SELECT SYM, QTY FROM POSITIONS WHERE ACCT"):
		acct, _ := firstString(args)
		r := &rows{cols: []string{"sym", "qty"}}
		syms := make([]string, 0, len(s.positions[acct]))
		for sym := range s.positions[acct] {
			syms = append(syms, sym)
		}
		sort.Strings(syms)
		for _, sym := range syms {
			r.data = append(r.data, []driver.Value{sym, s.positions[acct][sym]})
		}
		return r, nil
	}
	return nil, fmt.Errorf("fakesql: unsupported query %q", query)
}

func firstString(args []driver.Value) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	s, ok := args[0].(string)
	return s, ok
}

type rows struct {
	cols []string
	data [][]driver.Value
	next int
}

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { return nil }
func (r *rows) Next(dest []driver.Value) error {
	if r.next >= len(r.data) {
		return io.EOF
	}
	copy(dest, r.data[r.next])
	r.next++
	return nil
}
