package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type order struct {
	ID     int64   `json:"id"`
	UserID int64   `json:"userId"`
	Items  []int64 `json:"items"`
}

func main() {
	pool, err := pgxpool.New(context.Background(), os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatalf("orders: connect to database: %v", err)
	}
	defer pool.Close()

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Post("/orders", func(w http.ResponseWriter, req *http.Request) {
		var o order
		if err := json.NewDecoder(req.Body).Decode(&o); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		err := pool.QueryRow(req.Context(), "INSERT INTO orders (user_id, items) VALUES ($1, $2) RETURNING id", o.UserID, o.Items).Scan(&o.ID)
		if err != nil {
			http.Error(w, "could not store the order", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(o)
	})
	log.Fatal(http.ListenAndServe(":8080", r))
}
