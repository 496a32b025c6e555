package bridge

import "testing"

func TestRename(t *testing.T) {
	cases := []struct{ style, in, want string }{
		{NamesSnake, "InvoiceLine", "invoice_line"},
		{NamesSnake, "AlbumId", "album_id"},
		{NamesSnake, "HTMLPage", "html_page"},
		{NamesSnake, "UnitPrice2", "unit_price2"},
		{NamesSnake, "already_snake", "already_snake"},
		{NamesSnake, "Order Details", "order_details"},
		{NamesSnake, "ID", "id"},
		{NamesPascal, "invoice_line", "InvoiceLine"},
		{NamesPascal, "album_id", "AlbumId"},
		{NamesLower, "AlbumId", "albumid"},
		{NamesKeep, "AlbumId", "AlbumId"},
		{"", "AlbumId", "AlbumId"},
	}
	for _, c := range cases {
		if got := Rename(c.style, c.in); got != c.want {
			t.Errorf("Rename(%s, %q) = %q, want %q", c.style, c.in, got, c.want)
		}
	}
	// snake and pascal map Chinook's two spellings onto each other.
	for _, n := range []string{"InvoiceLine", "PlaylistTrack", "MediaTypeId", "CustomerId"} {
		if got := Rename(NamesPascal, Rename(NamesSnake, n)); got != n {
			t.Errorf("pascal(snake(%q)) = %q", n, got)
		}
	}
	if CheckNames("camel") == nil || CheckNames("snake") != nil {
		t.Error("CheckNames wrong")
	}
}
