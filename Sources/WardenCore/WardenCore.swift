// The Warden domain.
