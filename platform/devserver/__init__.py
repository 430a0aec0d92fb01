"""The dev runner behind `make run`, `make test` and `make bench`: embedded services when none are configured."""
