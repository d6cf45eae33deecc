// The Jinja subset feature by feature. The expected strings of the tables are what Jinja 3.1
// renders with transformers' settings (trim_blocks, lstrip_blocks, its tojson and
// raise_exception); the rest covers Kiln's deliberate differences, errors and limits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kiln/chat_template.hpp"
#include "kiln/error.hpp"

using kiln::ChatTemplate;
using Json = nlohmann::json;

namespace {

const Json& context() {
    static const Json ctx = Json::parse(R"({
        "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"},
                     {"role": "assistant", "content": "yo"}, {"role": "user", "content": "more"}],
        "x": 5, "s": " Hello World ", "l": [3, 1, 2], "d": {"a": [1, 2], "b": 1}, "n": null,
        "t": true, "f": 1.5, "e": "", "u8": "h\u00e9llo w\u00f6rld \u00df"})");
    return ctx;
}

std::string render(const std::string& source, const Json& ctx = context()) {
    return ChatTemplate(source).render(ctx);
}

void check_all(const std::vector<std::pair<std::string, std::string>>& cases) {
    for (const auto& [source, expected] : cases) {
        SCOPED_TRACE(source);
        try {
            EXPECT_EQ(render(source), expected);
        } catch (const kiln::Error& e) {
            ADD_FAILURE() << "threw: " << e.what();
        }
    }
}

// The message of the kiln::Error that parsing or rendering throws.
std::string error_of(const std::string& source, const Json& ctx = context()) {
    try {
        render(source, ctx);
    } catch (const kiln::Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string repeat(const std::string& s, size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

}  // namespace

TEST(ChatTemplateLanguage, TextAndWhitespaceControl) {
    check_all({
        {"plain text", "plain text"},
        {"line\n", "line"},
        {"a\r\nb\rc", "a\nb\nc"},
        {"{# comment #}a{# multi\nline #}b", "ab"},
        {"A {{- ' x ' -}} B", "A x B"},
        {"A {%- if true -%} B {%- endif -%} C", "ABC"},
        {"{% if true %}\nyes\n{% endif %}\nafter", "yes\nafter"},
        {"  {% if true %}\n  indented\n  {% endif %}\nend", "  indented\nend"},
        {"  {{ 'output tags keep indentation' }}", "  output tags keep indentation"},
        {"x  {% if true %}y{% endif %}", "x  y"},
        {"  {%+ if true %}keep{% endif %}", "  keep"},
        {"{% if true +%}\nkept newline{% endif %}", "\nkept newline"},
        {"  {# c #}\nx", "x"},
        {"{{ 'a' }}\nb", "a\nb"},
        {"a\n  {%- if true %}b{% endif %}", "ab"},
        {"{% for m in messages -%}\n  {{ m.role }}\n{% endfor %}",
         "system\nuser\nassistant\nuser\n"},
        {"{% for i in range(3) %}\n  {{ i }}\n{% endfor %}", "  0\n  1\n  2\n"},
        {"{%- for m in messages %}\n    {%- if m.role == 'user' %}\n        {{- '[U]' + m.content "
         "}}\n    {%- endif %}\n{%- endfor %}",
         "[U]hi[U]more"},
        {"{% raw %}\n  {{ x }}\n{% endraw %}\nz", "\n  {{ x }}\nz"},
        {"x\n{%- raw -%}\n  {{ y }}  \n{%- endraw -%}\n z", "x{{ y }}z"},
        {"{% if true %}  a  {% endif %}  ", "  a    "},
    });
}

TEST(ChatTemplateLanguage, LiteralsAndPrinting) {
    check_all({
        {"{{ 1 }}|{{ 1.0 }}|{{ 0.1 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 1.5e-5 }}|{{ 0.0001 }}|{{ -2.50 "
         "}}|{{ 0.1 + 0.2 }}|{{ 1/3 }}",
         "1|1.0|0.1|1e+16|1000000000000000.0|1.5e-05|0.0001|-2.5|0.30000000000000004|0."
         "3333333333333333"},
        {"{{ true }}|{{ True }}|{{ none }}|{{ None }}|{{ false }}", "True|True|None|None|False"},
        {"{{ [1, 'a', \"it's\", none, true, 1.5] }}|{{ {'a': 1, 'b': [2]} }}|{{ {'z': 1, 'a': 2} "
         "}}",
         "[1, 'a', \"it's\", None, True, 1.5]|{'a': 1, 'b': [2]}|{'z': 1, 'a': 2}"},
        {"{{ 'a\\nb\\tc\\\\d\\'e\"f\\x41\\u00e9\\U0001F600' }}|{{ '\\101' }}|{{ '\\q' }}",
         "a\nb\tc\\d'e\"fAé😀|A|\\q"},
        {"{{ \"x\" \"y\" 'z' }}", "xyz"},
        {"{{ d }}", "{'a': [1, 2], 'b': 1}"},
        {"{{ u8 }}", "héllo wörld ß"},
        {"{{ 9007199254740993 }}", "9007199254740993"},
    });
}

TEST(ChatTemplateLanguage, Loops) {
    check_all({
        {"{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last "
         "}}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }},{% endfor %}",
         "10TrueFalse443,21FalseFalse432,32FalseFalse421,43FalseTrue410,"},
        {"{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}:{{ "
         "m.role }} {% endfor %}",
         "1/3:user 2/3:assistant 3/3:user "},
        {"{% for m in [] %}x{% else %}empty{% endfor %}", "empty"},
        {"{% for m in messages if false %}x{% else %}none{% endfor %}", "none"},
        {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "a=[1, 2];b=1;"},
        {"{% for k in d %}{{ k }}{% endfor %}", "ab"},
        {"{% for c in 'abc' %}{{ c }}-{% endfor %}", "a-b-c-"},
        {"{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break "
         "%}{% endif %}{{ i }}{% endfor %}",
         "0134"},
        {"{% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{% endfor %}{{ loop.index "
         "}};{% endfor %}",
         "121;122;123;"},
        {"{% for i in range(2, 10, 3) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i "
         "}}{% endfor %}",
         "258|531"},
        {"{% for i in range(3) %}{{ loop.previtem }}<{{ i }}>{{ loop.nextitem }} {% endfor %}",
         "<0>1 0<1>2 1<2> "},
        {"{% for i in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %}", "abab"},
        {"{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", "37"},
        {"{% for i in range(3) %}{% set x = i %}{% endfor %}{{ x }}", "5"},
        {"{% for c in nothing %}x{% endfor %}done", "done"},
    });
}

TEST(ChatTemplateLanguage, ConditionalsAndAssignment) {
    check_all({
        {"{% if x > 3 %}big{% elif x > 1 %}mid{% else %}small{% endif %}", "big"},
        {"{% if x > 30 %}big{% elif x > 1 %}mid{% else %}small{% endif %}", "mid"},
        {"{% if x > 30 %}big{% elif x > 10 %}mid{% else %}small{% endif %}", "small"},
        {"{% set y = 3 %}{{ y }}{% for i in range(2) %}{% set y = i %}{{ y }}{% endfor %}{{ y }}",
         "3013"},
        {"{% set ns = namespace(count=0, found=false) %}{% for m in messages %}{% set ns.count = "
         "ns.count + 1 %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% "
         "endfor %}{{ ns.count }} {{ ns.found }}",
         "4 True"},
        {"{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12"},
        {"{% set blk %}inner {{ x }}{% endset %}[{{ blk }}]", "[inner 5]"},
        {"{% if true %}{% set z = 1 %}{% endif %}{{ z }}", "1"},
        {"{% set x = x + 1 %}{{ x }}", "6"},
        {"{% set d2 = {'k': 'v'} %}{{ d2.k }}{{ d2['k'] }}", "vv"},
        {"{% for m in messages %}{% set content = m.content %}{% if loop.index0 == 0 %}{% set "
         "content = 'first:' + content %}{% endif %}{{ content }} {% endfor %}",
         "first:S hi yo more "},
    });
}

TEST(ChatTemplateLanguage, MacrosAndBlocks) {
    check_all({
        {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') "
         "}} {{ greet('Al', '?') }} {{ greet(punct='.', name='Cy') }}",
         "Hi Bob! Hi Al? Hi Cy."},
        {"{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% "
         "endmacro %}{{ fact(5) }}",
         "120"},
        {"{% macro m() %}{{ x }}{% endmacro %}{% set x = 9 %}{{ m() }}", "9"},
        {"{% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }}{{ m(1) }}", "[][1]"},
        {"{% filter upper %}hello {{ x }}{% endfilter %}", "HELLO 5"},
        {"{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"},
    });
}

TEST(ChatTemplateLanguage, Operators) {
    check_all({
        {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 6 / 2 }} "
         "{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}",
         "3 -4 1 2 -2 3.5 3.0 1024 0.5 3.0 0.5"},
        {"{{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ [1, 2] + [3] }} {{ 'a' + 'b' }} {{ 'a' ~ "
         "1 ~ none ~ true }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ (1 + 2) }}",
         "ababab ababab [1, 1, 1] [1, 2, 3] ab a1NoneTrue 7 9 a3"},
        {"{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ not 1 == 2 }} {{ -x }} {{ +x }} {{ 10 - 2 - 3 }} {{ "
         "1.5 + 1 }} {{ true + 1 }} {{ 3 - -2 }} {{ -x | abs }}",
         "64 4 True -5 5 5 2.5 2 5 5"},
        {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ "
         "1 != 2 }} {{ x >= 5 }} {{ x <= 4 }}",
         "True False True True True True True False"},
        {"{{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'a' in d }} {{ 'c' in d "
         "}} {{ 3 not in l }} {{ none in [none] }}",
         "True True True True False False True"},
        {"{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' or [] }} {{ none and 1 }} {{ not '' }} {{ not l }} "
         "{{ True and False or True }}",
         "x y [] None True False True"},
        {"{{ 'yes' if x else 'no' }} {{ 'yes' if n else 'no' }} [{{ 'only' if false }}] {{ 1 if "
         "false else 2 if false else 3 }}",
         "yes no [] 3"},
        {"{{ 1 == true }} {{ 0 == false }} {{ [1] == [1.0] }} {{ none == none }} {{ {} == {} }} {{ "
         "d == {'b': 1, 'a': [1, 2]} }}",
         "True True True True True True"},
        {"{{ '%d items, %s' % (3, 'ok') }} {{ '%5.2f|%-4s|%03d' % (3.14159, 'ab', 7) }} {{ '%s!' % "
         "x }}",
         "3 items, ok  3.14|ab  |007 5!"},
        {"{{ 10 ** 18 }} {{ -9223372036854775807 - 1 }}",
         "1000000000000000000 -9223372036854775808"},
    });
}

TEST(ChatTemplateLanguage, AccessAndSlices) {
    check_all({
        {"{{ messages[1:] | length }} {{ messages[-1].content }} {{ l[::-1] }} {{ l[1:] }} {{ "
         "l[:-1] }} {{ l[::2] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ l[5:] }} {{ l[-10:1] }}",
         "3 more [2, 1, 3] [1, 2] [3, 1] [3, 2] el olleh [] [3]"},
        {"{{ messages[0].role }} {{ messages[0]['role'] }} {{ d.a[1] }} {{ d['a'].0 }} [{{ "
         "d.missing }}] [{{ nothing }}] [{{ l[10] }}] {{ l[-1] }}",
         "system system 2 1 [] [] [] 2"},
        {"{{ 'abc'[0] }}{{ 'abc'[-1] }}[{{ 'abc'[5] }}] {{ u8[1] }} {{ u8[-1] }} {{ u8[1:4] }}",
         "ac[] é ß éll"},
        {"{{ (messages | last).content }} {{ messages[-1]['content'] | upper }}", "more MORE"},
    });
}

TEST(ChatTemplateLanguage, Filters) {
    check_all({
        {"{{ s | trim }}|{{ s | upper }}|{{ s | lower }}|{{ 'hello wORLD' | capitalize }}|{{ "
         "'hello wORLD-x(y' | title }}|{{ 'xxhixx' | trim('x') }}",
         "Hello World| HELLO WORLD | hello world |Hello world|Hello World-X(Y|hi"},
        {"{{ l | length }} {{ 'héllo' | length }} {{ d | count }} {{ l | first }} {{ l | last }} "
         "{{ 'abc' | first }} {{ l | join(', ') }} {{ l | join }}",
         "3 5 2 3 2 a 3, 1, 2 312"},
        {"{{ nothing | default('dflt') }} {{ '' | default('d2') }} {{ '' | default('d3', true) }} "
         "{{ e | d('d4', boolean=true) }} {{ x | default(0) }}",
         "dflt  d3 d4 5"},
        {"{{ d | tojson }} {{ l | tojson }} {{ 'a\"b\\n' | tojson }} {{ none | tojson }} {{ 1.0 | "
         "tojson }} {{ u8 | tojson }} {{ {'z': 1, 'a': 2} | tojson(sort_keys=true) }} {{ [] | "
         "tojson(indent=2) }}",
         "{\"a\": [1, 2], \"b\": 1} [3, 1, 2] \"a\\\"b\\n\" null 1.0 \"héllo wörld ß\" {\"a\": 2, "
         "\"z\": 1} []"},
        {"{{ d | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1\n}"},
        {"{{ {'a': [1, {'b': none}]} | tojson(separators=(',', ':')) }}",
         "{\"a\":[1,{\"b\":null}]}"},
        {"{{ 12 | string }}{{ (12 | string) ~ 'x' }} {{ '42' | int }} {{ '4.7' | int }} {{ 'x' | "
         "int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '1A' | int(0, 16) }} {{ '1.5' | float }} {{ "
         "2 | float }}",
         "1212x 42 4 0 7 3 26 1.5 2.0"},
        {"{{ 'a-b-a' | replace('a', 'c') }} {{ 'a-b-a' | replace('a', 'c', 1) }} {{ 'ab' | list }} "
         "{{ -3 | abs }} {{ 2.567 | round(1) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | "
         "round(0, 'ceil') }}",
         "c-b-c c-b-a ['a', 'b'] 3 2.6 2.0 4.0 3.0"},
        {"{{ l | sort }} {{ l | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }} {{ l | max }} "
         "{{ l | min }} {{ l | sum }} {{ [1, 1, 2] | unique | list }} {{ l | reverse | list }} {{ "
         "l | sum(start=10) }}",
         "[1, 2, 3] [3, 2, 1] ['A', 'b', 'c'] 3 1 6 [1, 2] [2, 1, 3] 16"},
        {"{{ messages | map(attribute='role') | join(',') }} {{ ['a', 'b'] | map('upper') | list "
         "}} {{ messages | map(attribute='missing', default='?') | join }}",
         "system,user,assistant,user ['A', 'B'] ????"},
        {"{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | "
         "rejectattr('role', 'eq', 'user') | map(attribute='content') | join }} {{ [0, 1, 2, none] "
         "| select | list }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | "
         "reject('even') | list }}",
         "2 Syo [1, 2] [1, 3] [1, 3]"},
        {"{{ messages | selectattr('role', 'in', ['system', 'assistant']) | list | length }} {{ "
         "messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | first }}",
         "2 hi"},
        {"{{ 'a\\nb' | indent(2) }}|{{ 'a\\n\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, "
         "blank=true) }}",
         "a\n  b|  a\n\n  b|a\n  \n  b"},
        {"{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') | map(attribute='n') | join }} {{ d | "
         "items | list | length }}",
         "12 2"},
        {"{{ u8 | upper }} {{ u8 | title }} {{ u8 | length }} {{ u8 | reverse }} {{ 'ß' | upper }}",
         "HÉLLO WÖRLD SS Héllo Wörld SS 13 ß dlröw olléh SS"},
        {"{{ '<a & \"b\">' | e }} {{ 'x' | safe }} {{ d | attr('b') }} {{ namespace(b=2) | "
         "attr('b') }}",
         "&lt;a &amp; &#34;b&#34;&gt; x  2"},
    });
}

TEST(ChatTemplateLanguage, Tests) {
    check_all({
        {"{{ x is defined }} {{ nothing is defined }} {{ nothing is undefined }} {{ n is none }} "
         "{{ x is none }} {{ s is string }} {{ x is string }} {{ x is number }} {{ f is number }} "
         "{{ t is number }} {{ x is integer }} {{ f is float }} {{ d is mapping }} {{ l is mapping "
         "}}",
         "True False True True False True False True True True True True True False"},
        {"{{ l is iterable }} {{ s is iterable }} {{ d is iterable }} {{ x is iterable }} {{ l is "
         "sequence }} {{ s is sequence }} {{ x is equalto 5 }} {{ x is eq(5) }} {{ x is not "
         "equalto 4 }} {{ t is true }} {{ t is false }} {{ n is false }}",
         "True True True False True True True True True True False False"},
        {"{{ x is odd }} {{ x is even }} {{ x is divisibleby 5 }} {{ 'ab' is lower }} {{ 'AB' is "
         "upper }} {{ x is gt 3 }} {{ x is lt 3 }} {{ x is in [5] }} {{ t is boolean }} {{ n is "
         "sameas none }} {{ x is ge 5 }} {{ x is le 5 }}",
         "True False True True True True False True True True True True"},
        {"{{ x is not none and x > 3 }} {{ not x is defined }} {{ x is defined and not x is none "
         "}}",
         "True False True"},
    });
}

TEST(ChatTemplateLanguage, Methods) {
    check_all({
        {"{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ "
         "s.startswith(' He') }}|{{ s.endswith('d ') }}|{{ s.startswith(('a', ' H')) }}|{{ "
         "s.upper() }}|{{ s.lower() }}",
         "Hello World|Hello World | Hello World|hi|True|True|True| HELLO WORLD | hello world "},
        {"{{ s.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a b c'.split(' ', 1) }}|{{ ' a  b "
         "'.split(None, 1) }}|{{ s.replace('l', 'L') }}|{{ s.replace('l', 'L', 2) }}|{{ 'hello "
         "world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'hello'.find('l') }}|{{ '-'.join(['a', "
         "'b']) }}",
         "['Hello', 'World']|['a', 'b', '', 'c']|['a', 'b c']|['a', 'b ']| HeLLo WorLd | HeLLo "
         "World |Hello World|Hello|2|a-b"},
        {"{{ d.get('b') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys() | list }} {{ "
         "d.values() | list }} {{ d.items() | list | length }}",
         "1 None dflt ['a', 'b'] [[1, 2], 1] 2"},
        {"{{ 'abc'.upper().lower() }} {{ messages[0].content.upper() }} {{ ''.split(',') }} {{ "
         "''.split() }} {{ 'ab'|replace('', '-') }}",
         "abc S [''] [] -a-b-"},
    });
}

TEST(ChatTemplateLanguage, UndefinedValues) {
    check_all({
        {"[{{ nothing }}] [{{ nothing | length }}] {{ nothing | list }} {{ nothing ~ 'x' }} {{ "
         "nothing == nothing }} {{ nothing == none }} {% if nothing %}t{% else %}f{% endif %}",
         "[] [0] [] x True False f"},
        {"{{ nothing is defined }} {{ d.nothing is defined }} {{ messages[9] is defined }} {{ "
         "nothing | default('z') }}",
         "False False False z"},
    });
}

// Where Kiln knowingly renders differently from Jinja.
TEST(ChatTemplateLanguage, DeliberateDifferences) {
    // Tuples are lists.
    EXPECT_EQ(render("{{ (1, 2) }} {% set t = 1, 2 %}{{ t }}"), "[1, 2] [1, 2]");
    // An attribute of an undefined value is undefined (Jinja raises); the result stays falsy.
    EXPECT_EQ(
        render("[{{ nothing.attr.deeper }}][{{ x.y.z }}]{% if d.missing.deeper %}t{% endif %}"),
        "[][]");
    // {% generation %} (transformers' marker of assistant text) renders its body.
    EXPECT_EQ(render("{% generation %}gen {{ x }}{% endgeneration %}"), "gen 5");
    // reverse gives a list, not Python's iterator object.
    EXPECT_EQ(render("{{ l | reverse }} {{ not [] | reverse }}"), "[2, 1, 3] True");
    // Integers are 64-bit; beyond that they become floats.
    EXPECT_EQ(render("{{ 9223372036854775807 + 1 }}"), "9.223372036854776e+18");
}

TEST(ChatTemplateLanguage, RaiseExceptionCarriesTheMessage) {
    EXPECT_EQ(error_of("{{ raise_exception('custom failure') }}"), "custom failure");
    EXPECT_EQ(
        error_of(
            "{% for m in messages %}{% if m.role == 'assistant' %}"
            "{{ raise_exception('no ' ~ m.role ~ ' at ' ~ loop.index0) }}{% endif %}{% endfor %}"),
        "no assistant at 2");
    EXPECT_EQ(
        error_of(
            "{% macro fail() %}{{ raise_exception('from a macro') }}{% endmacro %}{{ fail() }}"),
        "from a macro");
}

TEST(ChatTemplateLanguage, StrftimeNow) {
    std::string year = render("{{ strftime_now('%Y') }}");
    ASSERT_EQ(year.size(), 4u);
    EXPECT_TRUE(year[0] == '2');
    EXPECT_EQ(render("{{ strftime_now('') }}"), "");
}

TEST(ChatTemplateLanguage, SyntaxErrorsNameLineColumnAndWhatWasExpected) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{{ x", "chat template 1:1: unclosed '{{': expected '}}'"},
        {"ok\n{% if x }}", "chat template 2:1: unclosed '{%': expected '%}'"},
        {"{# never closed", "chat template 1:1: unclosed comment: expected '#}'"},
        {"{% if x %}yes",
         "chat template 1:14: unexpected end of template: the '{% if %}' at 1:1 needs '{% endif "
         "%}'"},
        {"{% for m in messages %}\n{% if m %}\n{% endfor %}",
         "chat template 3:1: unexpected '{% endfor %}', expected '{% endif %}'"},
        {"a\n  {{ x | nope }}", "chat template 2:10: unknown filter 'nope'"},
        {"{{ x is nope }}", "chat template 1:9: unknown test 'nope'"},
        {"{{ 1 + }}", "chat template 1:8: expected an expression, found '}}'"},
        {"{{ 'abc }}", "chat template 1:4: unterminated string"},
        {"{{ [1, 2 }}", "chat template 1:10: unexpected '}': the '[' at 1:4 is not closed"},
        {"{{ [1, 2", "chat template 1:4: unclosed '[' in a tag"},
        {"{{ {'a' 1} }}", "chat template 1:9: expected ':', found a number"},
        {"{{ x @ 1 }}", "chat template 1:6: unexpected character '@' in a tag"},
        {"{{ 1 2 }}", "chat template 1:6: expected '}}', found a number"},
        {"{% endif %}", "chat template 1:1: unexpected '{% endif %}'"},
        {"{% frobnicate %}", "chat template 1:1: unknown tag 'frobnicate'"},
        {"{% include 'x' %}", "chat template 1:1: the 'include' tag is not supported"},
        {"{% break %}", "chat template 1:1: '{% break %}' outside of a for loop"},
        {"{% for x y %}{% endfor %}", "chat template 1:10: expected 'in', found 'y'"},
        {"{% set %}", "chat template 1:8: expected a variable name, found '%}'"},
        {"{{ f(a=1, 2) }}", "chat template 1:11: a positional argument follows a keyword argument"},
        {"{{ (1)(2) }}", "chat template 1:7: only functions, macros and methods can be called"},
        {"{% for x in l recursive %}{% endfor %}",
         "chat template 1:15: recursive loops are not supported"},
    };
    for (const auto& [source, expected] : cases) {
        SCOPED_TRACE(source);
        EXPECT_EQ(error_of(source), expected);
    }
}

TEST(ChatTemplateLanguage, RenderErrorsNameTheExpression) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{{ nothing + 1 }}", "chat template 1:12: cannot apply '+' to an undefined value"},
        {"{{ 1 / 0 }}", "chat template 1:6: division by zero"},
        {"{{ 1 // 0 }}", "chat template 1:6: integer division or modulo by zero"},
        {"{{ 'a' - 1 }}", "chat template 1:8: cannot apply '-' to string and integer"},
        {"{{ 'a' < 1 }}", "chat template 1:4: cannot order string and integer"},
        {"{% for c in 5 %}{% endfor %}",
         "chat template 1:13: a value of type integer is not iterable"},
        {"{{ undefined_fn() }}", "chat template 1:16: unknown function 'undefined_fn'"},
        {"{{ x() }}", "chat template 1:5: 'x' is a integer, not a function"},
        {"{{ s.nomethod() }}", "chat template 1:14: a string has no method 'nomethod'"},
        {"{% set x.y = 1 %}",
         "chat template 1:1: cannot set attribute 'y' of 'x': it is a integer, not a namespace()"},
        {"{{ 5 | length }}", "chat template 1:8: length: a integer has no length"},
        {"{{ l | join(1, 2, 3) }}",
         "chat template 1:8: join() takes at most 2 argument(s), 3 given"},
        {"{{ 'x' | upper(bad=1) }}",
         "chat template 1:10: upper() got an unexpected keyword argument 'bad'"},
        {"{{ nothing | tojson }}", "chat template 1:14: tojson: the value is undefined"},
        {"{% for a, b in [[1, 2, 3]] %}{% endfor %}",
         "chat template 1:1: cannot unpack a list into 2 loop variables"},
        {"{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}",
         "chat template 1:35: macro 'm' takes 1 argument(s), 2 given"},
        {"{{ x is divisibleby(0) }}", "chat template 1:9: divisibleby: division by zero"},
        {"{{ l[::0] }}", "chat template 1:5: slice step cannot be zero"},
        {"{{ '%s %s' % 1 }}", "chat template 1:12: not enough arguments for format string"},
        {"{{ 'ab' % 'c' }}",
         "chat template 1:9: not all arguments converted during string formatting"},
    };
    for (const auto& [source, expected] : cases) {
        SCOPED_TRACE(source);
        EXPECT_EQ(error_of(source), expected);
    }
}

TEST(ChatTemplateLanguage, DeepNestingIsAnErrorNotAStackOverflow) {
    const size_t n = 100000;
    const std::vector<std::string> sources = {
        "{{ " + repeat("(", n) + "1" + repeat(")", n) + " }}",
        "{{ " + repeat("[", n) + repeat("]", n) + " }}",
        "{{ " + repeat("{'a': ", n) + "1" + repeat("}", n) + " }}",
        "{{ " + repeat("not ", n) + "x }}",
        "{{ " + repeat("-", n) + "1 }}",
        "{{ x" + repeat(".a", n) + " }}",
        "{{ x" + repeat("[0]", n) + " }}",
        "{{ x" + repeat(" | string", n) + " }}",
        "{{ x" + repeat(" is defined", n) + " }}",
        "{{ 1" + repeat(" + 1", n) + " }}",
        "{{ 1" + repeat(" < 1", n) + " }}",
        "{{ 1" + repeat(" if 1", n) + " }}",
        "{{ 'a'" + repeat(".upper()", n) + " }}",
        "{{ f(" + repeat("f(", n) + repeat(")", n) + ") }}",
        repeat("{% if true %}", n) + repeat("{% endif %}", n),
        repeat("{% for i in l %}", n) + repeat("{% endfor %}", n),
        repeat("{% macro m() %}", n),
    };
    for (const std::string& source : sources) {
        SCOPED_TRACE(source.substr(0, 40));
        std::string message = error_of(source);
        EXPECT_NE(message.find("chat template 1:"), std::string::npos) << message;
    }
}

TEST(ChatTemplateLanguage, NestingWithinTheLimitsRenders) {
    EXPECT_EQ(render("{{ " + repeat("(", 40) + "1" + repeat(")", 40) + " }}"), "1");
    EXPECT_EQ(render(repeat("{% if true %}", 40) + "in" + repeat("{% endif %}", 40)), "in");
    EXPECT_EQ(render("{{ 0" + repeat(" + 1", 200) + " }}"), "200");
}

TEST(ChatTemplateLanguage, RunawayTemplatesStop) {
    EXPECT_EQ(error_of("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}"),
              "chat template 1:21: macro calls nest deeper than 64 (runaway recursion?)");
    // Deep blocks inside recursing macros hit the overall depth limit first.
    const std::string deep_body =
        repeat("{% if true %}", 60) + "{{ m(n + 1) }}" + repeat("{% endif %}", 60);
    EXPECT_NE(error_of("{% macro m(n) %}" + deep_body + "{% endmacro %}{{ m(0) }}")
                  .find("rendering nests deeper than"),
              std::string::npos);
    EXPECT_EQ(render("{% macro m(n) %}{% if n < 60 %}{{ m(n + 1) }}{% else %}{{ n }}{% endif %}{% "
                     "endmacro %}{{ m(0) }}"),
              "60");
    EXPECT_NE(
        error_of("{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}")
            .find("loop iterations"),
        std::string::npos);
    EXPECT_NE(error_of("{{ range(100000000) | length }}").find("range() of more than"),
              std::string::npos);
    EXPECT_NE(error_of("{{ 'x' * 100000000000 }}").find("MiB"), std::string::npos);
    EXPECT_EQ(render("[{{ '' * 100000000000 }}]{{ [] * 100000000000 }}"), "[][]");
    EXPECT_NE(error_of("{% set s = 'x' * 10000000 %}{{ s }}{{ s }}").find("output grew past"),
              std::string::npos);
    EXPECT_NE(error_of("{% set ns = namespace(s='xx') %}{% for i in range(40) %}{% set ns.s = ns.s "
                       "~ ns.s %}{% endfor %}")
                  .find("MiB"),
              std::string::npos);
}

TEST(ChatTemplateLanguage, LongInputs) {
    const std::string text = repeat("lorem ipsum ", 100000);
    EXPECT_EQ(render(text + "{{ x }}" + text), text + "5" + text);
    EXPECT_EQ(render(repeat("{{ x }}", 20000)).size(), 20000u);

    Json messages = Json::array();
    for (int i = 0; i < 5000; ++i)
        messages.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", "m"}});
    std::string out = ChatTemplate(ChatTemplate::chatml_default()).render({{"messages", messages}});
    EXPECT_EQ(out.size(), 2500 * (std::string("<|im_start|>user\nm<|im_end|>\n").size() +
                                  std::string("<|im_start|>assistant\nm<|im_end|>\n").size()));
}

TEST(ChatTemplateLanguage, DeepContextIsRefused) {
    Json deep = 1;
    for (int i = 0; i < 1000; ++i) deep = Json::array({deep});
    EXPECT_THROW(ChatTemplate("{{ v }}").render({{"v", deep}}), kiln::Error);
}

// Random token soup must parse or fail with kiln::Error; whatever parses must render or fail
// with kiln::Error.
TEST(ChatTemplateLanguage, RandomTemplatesNeverCrash) {
    const std::vector<std::string> pieces = {
        "{{",     "}}",      "{%",        "%}",     "{#",        "#}",         "-",      "+",
        " ",      "\n",      "if",        "elif",   "else",      "endif",      "for",    "in",
        "endfor", "set",     "endset",    "macro",  "endmacro",  "(",          ")",      "[",
        "]",      "{",       "}",         ",",      ":",         ".",          "|",      "is",
        "not",    "and",     "or",        "x",      "l",         "d",          "s",      "messages",
        "loop",   "ns",      "namespace", "range",  "'a'",       "\"b\"",      "1",      "2.5",
        "0",      "-1",      "~",         "*",      "/",         "//",         "%",      "**",
        "==",     "!=",      "<",         ">=",     "=",         "trim",       "length", "join",
        "tojson", "default", "defined",   "none",   "true",      "upper",      "split",  "items",
        "break",  "raw",     "endraw",    "filter", "endfilter", "selectattr", "map",    "index0",
        "last",   "content", "role"};
    std::mt19937 rng(1234);
    std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1), len(1, 40);
    int parsed = 0, rendered = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::string source;
        for (size_t n = len(rng), i = 0; i < n; ++i) source += pieces[pick(rng)];
        try {
            ChatTemplate t(source);
            ++parsed;
            t.render(context());
            ++rendered;
        } catch (const kiln::Error&) {
        }
    }
    EXPECT_GT(parsed, 100);
    EXPECT_GT(rendered, 50);
}
