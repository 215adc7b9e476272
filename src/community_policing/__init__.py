"""community-policing: models, rules and storage for "Tiada Hari Tanpa Teman Baru" and similar programmes."""
