"""What a SQLite deployment loads: the PostgreSQL client (libpq with its TLS, LDAP and Kerberos
stacks, several MiB resident) must stay out of a process that never opens PostgreSQL."""
from conftest import start_service, stop_service


def test_sqlite_service_does_not_load_the_postgresql_client(tmp_path):
    proc, svc = start_service(tmp_path)
    try:
        code, _, _ = svc.request("GET", svc.url("/volumes"))
        assert code == 200
        with open(f"/proc/{proc.pid}/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line}
        assert any("libsqlite3" in lib for lib in libs)
        loaded = sorted(lib for lib in libs
                        if any(n in lib for n in ("libpq", "libsoci_postgresql", "libgnutls", "libkrb5")))
        assert not loaded, f"a SQLite service maps {loaded}"
    finally:
        stop_service(proc)
