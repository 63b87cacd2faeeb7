"""bridge.mapping: configured rules turn a verified identity into candidate roles.

- `rules.py` (with `when.py`, `templates.py`): the `mapping:` section of `bridge.yaml`,
  parsed and validated once (`parse_rules`, `load_rules`, `MappingRules`).
- `engine.py`: `map_identity(rules, provider, claims) -> MappingResult` with
  `claims_from_identity` / `claims_from_json` (`claims.py`) and `conditions.py`.
- `trace.py`: the decision trace (`to_dict`, `user_summary`, `record_trust`).
- `examples.py`: rule examples checked by `bridge config validate`.
- `holder.py`: `RulesHolder`, the app's current rules with a fault-safe `reload`.

Pure: no Flask, no database, no network. Mapping proposes; the role's trust policy
disposes (`bridge/trust/`).
"""
