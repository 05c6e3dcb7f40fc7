"""Models with fit/update/score/save/load; they take arrays and configs, never catalogs."""
