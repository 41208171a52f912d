/* An independent strict JSON validator (RFC 8259), the oracle of
 * tests/fuzz/fuzz_jsondiff.c: written apart from utmstack.h's, and
 * differently on purpose: recursive descent, and UTF-8 decoded to code
 * points that are then judged (not a table of byte ranges). Test code only:
 * its recursion is bounded by max_depth.
 *
 * oracle_json_valid(s, n, max_depth): 1 when s[0..n) is exactly one JSON
 * text, arrays and objects nested at most max_depth deep; else 0. A \u
 * escape of a lone surrogate is grammatical (RFC 8259 section 8.2).       */
#ifndef UTM_JSON_ORACLE_H
#define UTM_JSON_ORACLE_H
#include <stddef.h>
#include <string.h>

typedef struct oracle {
    const unsigned char *s;
    size_t n, i;
    int depth, max_depth;
} oracle_t;

static int oracle_value(oracle_t *o);

static int oracle_peek(const oracle_t *o) { return o->i < o->n ? o->s[o->i] : -1; }

static void oracle_ws(oracle_t *o)
{
    for (;;) {
        int ch = oracle_peek(o);
        if (ch != 0x20 && ch != 0x09 && ch != 0x0a && ch != 0x0d) return;
        o->i++;
    }
}

static int oracle_lit(oracle_t *o, const char *w)
{
    for (; *w; w++, o->i++)
        if (oracle_peek(o) != (unsigned char)*w) return 0;
    return 1;
}

static int oracle_digits(oracle_t *o) /* one or more */
{
    size_t start = o->i;
    while (oracle_peek(o) >= '0' && oracle_peek(o) <= '9') o->i++;
    return o->i > start;
}

static int oracle_number(oracle_t *o)
{
    if (oracle_peek(o) == '-') o->i++;
    if (oracle_peek(o) == '0') o->i++;
    else if (oracle_peek(o) >= '1' && oracle_peek(o) <= '9') oracle_digits(o);
    else return 0;
    if (oracle_peek(o) == '.') {
        o->i++;
        if (!oracle_digits(o)) return 0;
    }
    if (oracle_peek(o) == 'e' || oracle_peek(o) == 'E') {
        o->i++;
        if (oracle_peek(o) == '+' || oracle_peek(o) == '-') o->i++;
        if (!oracle_digits(o)) return 0;
    }
    return 1;
}

/* One UTF-8 encoded character: decode, then judge the code point. */
static int oracle_utf8(oracle_t *o)
{
    int lead = oracle_peek(o), more, k;
    unsigned long cp, min;
    if (lead < 0x80) return 0; /* ASCII is not handled here */
    if ((lead & 0xe0) == 0xc0) { more = 1; cp = (unsigned long)(lead & 0x1f); min = 0x80; }
    else if ((lead & 0xf0) == 0xe0) { more = 2; cp = (unsigned long)(lead & 0x0f); min = 0x800; }
    else if ((lead & 0xf8) == 0xf0) { more = 3; cp = (unsigned long)(lead & 0x07); min = 0x10000; }
    else return 0;
    o->i++;
    for (k = 0; k < more; k++) {
        int ch = oracle_peek(o);
        if (ch < 0 || (ch & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (unsigned long)(ch & 0x3f);
        o->i++;
    }
    if (cp < min) return 0;                     /* overlong */
    if (cp >= 0xd800 && cp <= 0xdfff) return 0; /* a surrogate is no character */
    return cp <= 0x10ffff;
}

static int oracle_string(oracle_t *o)
{
    if (oracle_peek(o) != '"') return 0;
    o->i++;
    for (;;) {
        int ch = oracle_peek(o);
        if (ch < 0) return 0;
        if (ch == '"') { o->i++; return 1; }
        if (ch < 0x20) return 0;
        if (ch == '\\') {
            o->i++;
            ch = oracle_peek(o);
            o->i++;
            if (ch == 'u') {
                int k;
                for (k = 0; k < 4; k++) {
                    int h = oracle_peek(o);
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
                    o->i++;
                }
            } else if (ch <= 0 || !strchr("\"\\/bfnrt", ch)) { /* strchr finds the NUL too */
                return 0;
            }
        } else if (ch >= 0x80) {
            if (!oracle_utf8(o)) return 0;
        } else {
            o->i++;
        }
    }
}

static int oracle_members(oracle_t *o, int close, int object)
{
    if (++o->depth > o->max_depth) return 0;
    o->i++; /* the opening bracket */
    oracle_ws(o);
    if (oracle_peek(o) == close) { o->i++; o->depth--; return 1; }
    for (;;) {
        if (object) {
            if (!oracle_string(o)) return 0;
            oracle_ws(o);
            if (oracle_peek(o) != ':') return 0;
            o->i++;
            oracle_ws(o);
        }
        if (!oracle_value(o)) return 0;
        oracle_ws(o);
        if (oracle_peek(o) == close) { o->i++; o->depth--; return 1; }
        if (oracle_peek(o) != ',') return 0;
        o->i++;
        oracle_ws(o);
    }
}

static int oracle_value(oracle_t *o)
{
    switch (oracle_peek(o)) {
    case '{': return oracle_members(o, '}', 1);
    case '[': return oracle_members(o, ']', 0);
    case '"': return oracle_string(o);
    case 't': return oracle_lit(o, "true");
    case 'f': return oracle_lit(o, "false");
    case 'n': return oracle_lit(o, "null");
    default: return oracle_number(o);
    }
}

static int oracle_json_valid(const unsigned char *s, size_t n, int max_depth)
{
    oracle_t o;
    o.s = s;
    o.n = n;
    o.i = 0;
    o.depth = 0;
    o.max_depth = max_depth;
    oracle_ws(&o);
    if (!oracle_value(&o)) return 0;
    oracle_ws(&o);
    return o.i == n;
}
#endif
