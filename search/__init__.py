"""Storage and the read side: tables, migrations, query builders, search backends, exports."""

from geo._compiled import use_build

use_build(__name__, __path__)  # compiled hot modules, while they match the sources (geo/_compiled.py)
