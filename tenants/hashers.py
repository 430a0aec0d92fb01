from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idOwaspHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

    Django's defaults (100 MiB, 8 lanes) take about 0.2 s on a 2-core web node, which alone
    would eat the signup budget and invite CPU exhaustion by login floods; OWASP's
    parameters take a tenth of that and remain memory-hard. Old hashes are upgraded on login.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
