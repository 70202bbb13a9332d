"""The sweep specs bundled with jaxtherm (``jaxtherm run NAME``), and in ``studies/`` the
optimisation studies (``jaxtherm optimize NAME``). Installed as the package data of
``jaxtherm._bundled`` (``pyproject.toml``), so that the names resolve from a wheel too."""
