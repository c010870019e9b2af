"""What the web server does once, before it forks its workers (tvargrupp/startup.py)."""

from pathlib import Path

from django.conf import settings
from django.template import engines

from tvargrupp.startup import warm_templates


def _cached_loader():
    partials = engines["django"].engine.template_loaders[0]  # template_partials wraps it
    (cached,) = partials.loaders
    return cached


def test_the_projects_templates_are_compiled_before_the_workers_fork():
    """gunicorn preloads the app and forks: workers (also recycled ones) inherit them."""
    cached = _cached_loader()
    cached.reset()
    assert "board/board.html" not in cached.get_template_cache

    compiled = warm_templates()

    root = Path(settings.BASE_DIR)
    folders = [root / "templates", *(p for p in root.glob("*/templates") if p.is_dir())]
    ours = {p.relative_to(f).as_posix() for f in folders for p in f.rglob("*.html")}
    assert compiled >= len(ours) > 50
    assert ours <= set(cached.get_template_cache)
    assert "board/board.html" in cached.get_template_cache
    # Nothing from installed packages is compiled for nothing.
    assert "admin/base.html" not in cached.get_template_cache
