"""Hypothesis strategies from the JSON schemas of the API's bodies.

Written for the keywords those schemas use (type, enum, properties,
required, additionalProperties, patternProperties, oneOf/anyOf,
minLength/maxLength, pattern, minimum, items, maxItems and the
``hostname`` format) rather than taken from hypothesis-jsonschema, whose
last release does not run on current hypothesis.

``from_schema(schema)`` draws instances meant to be valid;
``from_schema(schema, wild=True)`` draws the same shapes with any JSON
value in place of some fields, and extra or missing keys: what reaches
the validator's every branch.
"""

import re

from hypothesis import strategies as st

from nova import hostnames

# Text with lone UTF-16 surrogates: valid JSON ("\ud800") that is no
# character (st.text never draws them).
surrogate_text = st.text(
    alphabet=st.one_of(st.characters(), st.integers(0xd800, 0xdfff).map(chr)),
    min_size=1, max_size=6)

# Any JSON value (small): what a wild field may hold instead.
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-2 ** 70, 2 ** 70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    surrogate_text,
    st.sampled_from(['', 'auto', 'true', 'null', 'lab-b', '0', '-1',
                     'a/b', 'x' * 300, '\u00e9\u00e8', '\x00']))
json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=10), inner,
                                            max_size=3)),
    max_leaves=8)

_label = st.from_regex(r'\A[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\Z')
hostname_values = st.one_of(
    st.sampled_from(['lab-a', 'lab-b', 'lab-c', 'lab-d', 'lab-z',
                     '198.18.0.2', 'x' * 63, 'lab-a.example.org']),
    st.lists(_label, min_size=1, max_size=3).map('.'.join))

# Strings that come close to host names but are not: what a URI would read.
bad_hostnames = st.one_of(
    st.sampled_from(['lab-b/system', 'root@lab-b', 'lab-b:16509',
                     'lab-b?transport=ssh', 'lab b', 'lab_b', 'lab-b\n',
                     '-lab', 'lab-', 'a..b', '.lab', 'x' * 64,
                     '.'.join(['x' * 63] * 4), 'lab-b#x', '[fd00::1]',
                     'lab-b%2f', '\u00e9']),
    st.builds(lambda a, c, b: a + c + b, _label,
              st.sampled_from('/@:?# _%[]\\\t'), _label))


def _string(schema):
    low = schema.get('minLength', 0)
    high = schema.get('maxLength')
    if schema.get('format') == 'hostname':
        return hostname_values
    pattern = schema.get('pattern')
    if pattern:
        regex = re.compile(pattern)
        try:
            base = st.from_regex(pattern, fullmatch=True)
        except Exception:  # a construct from_regex does not know
            base = st.text(max_size=high or 40).filter(regex.search)
        odd = surrogate_text.filter(regex.search)
    else:
        base = st.text(min_size=low, max_size=min(high or 40, 40))
        odd = surrogate_text
    # Now and then a string the schema allows but no encoder takes.
    base = st.one_of(base, base, base, odd)
    return base.filter(
        lambda s: len(s) >= low and (high is None or len(s) <= high))


def _object(schema, wild):
    props = schema.get('properties', {})
    required = [k for k in schema.get('required', ()) if k in props]
    optional = {k: _field(v, wild) for k, v in props.items()
                if k not in required}
    fixed = st.fixed_dictionaries(
        {k: _field(props[k], wild) for k in required}, optional=optional)
    parts = [fixed]
    for pattern, sub in schema.get('patternProperties', {}).items():
        parts.append(st.dictionaries(_string({'pattern': pattern}),
                                     _field(sub, wild), max_size=3))
    if isinstance(schema.get('additionalProperties'), dict):
        parts.append(st.dictionaries(
            st.text(max_size=10),
            _field(schema['additionalProperties'], wild), max_size=2))
    result = st.tuples(*parts).map(_merge)
    if wild:
        # A missing required key, or one nobody expects.
        result = st.one_of(
            result,
            st.tuples(result, st.sampled_from(required or [''])).map(
                lambda pair: {k: v for k, v in pair[0].items()
                              if k != pair[1]}),
            st.tuples(result, st.text(max_size=12), json_values).map(
                lambda t: dict(t[0], **{t[1]: t[2]})))
    return result


def _merge(dicts):
    merged = {}
    for item in dicts:
        merged.update(item)
    return merged


def _field(schema, wild):
    if wild:
        return st.one_of(from_schema(schema, wild), json_values)
    return from_schema(schema, wild)


_CACHE = {}


def from_schema(schema, wild=False):
    """A strategy drawing instances of ``schema`` (see the module doc).

    Built once per schema object: building compiles every pattern.
    """
    key = (id(schema), wild)
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not schema:
        cached = (schema, _from_schema(schema, wild))
        _CACHE[key] = cached
    return cached[1]


def _from_schema(schema, wild):
    if 'enum' in schema:
        return st.sampled_from(list(schema['enum']))
    for key in ('oneOf', 'anyOf'):
        if key in schema:
            return st.one_of([from_schema(s, wild) for s in schema[key]])
    types = schema.get('type')
    if types is None:
        return json_values
    if isinstance(types, str):
        types = [types]
    options = []
    for kind in types:
        if kind == 'null':
            options.append(st.none())
        elif kind == 'boolean':
            options.append(st.booleans())
        elif kind == 'integer':
            options.append(st.integers(min_value=schema.get('minimum'),
                                       max_value=schema.get('maximum')))
        elif kind == 'number':
            options.append(st.floats(allow_nan=False, allow_infinity=False))
        elif kind == 'string':
            options.append(_string(schema))
            if wild and schema.get('format') == 'hostname':
                options.append(bad_hostnames)
        elif kind == 'array':
            options.append(st.lists(
                from_schema(schema.get('items', {}), wild),
                max_size=min(schema.get('maxItems', 3), 3)))
        elif kind == 'object':
            options.append(_object(schema, wild))
    return st.one_of(options)


def is_hostname_rule_respected(value):
    """For tests of this module: the generator's valid host names are."""
    return hostnames.is_valid_hostname(value)
