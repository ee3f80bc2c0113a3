"""`python -m data.logic_v2 [OUT]` rewrites data/logic/v2.jsonl (the shipped benchmark)."""
from data.logic_v2.splits import main

raise SystemExit(main())
