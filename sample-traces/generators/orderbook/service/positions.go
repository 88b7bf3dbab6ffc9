package service

import (
	"database/sql"
	"net/http"
)

// PositionBook serves an account's positions.
type PositionBook struct {
	db *sql.DB
}

// List answers the positions of the account in the path.
func (p *PositionBook) List(w http.ResponseWriter, r *http.Request) {
	rows, err := p.db.QueryContext(r.Context(), "SELECT sym, qty FROM positions WHERE acct = ?", r.PathValue("acct"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var sym string
		var qty int64
		if err := rows.Scan(&sym, &qty); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out[sym] = qty
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	tenant := ""
	if t, ok := r.Context().Value(tenantKey{}).(*tenantContext); ok {
		tenant = t.name
	}
	writeJSON(w, http.StatusOK, map[string]any{"acct": r.PathValue("acct"), "tenant": tenant, "positions": out})
}
