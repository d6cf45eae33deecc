// kiln tokenize: encode text to token ids (or decode ids to text) with a tokenizer.json, for
// inspecting what a model sees.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "kiln/error.hpp"
#include "kiln/tokenizer.hpp"

namespace kiln::tools {

namespace {

struct TokenizeOptions {
    std::string tokenizer, text, file, ids;
    bool lines = false, show_tokens = false, no_special = false, decode = false, roundtrip = false;
};

std::vector<int64_t> parse_ids(const std::string& text) {
    std::vector<int64_t> ids;
    std::string item;
    std::stringstream in(text);
    while (std::getline(in, item, ',')) {
        std::stringstream one(item);
        int64_t id = 0;
        std::string rest;
        KILN_CHECK((one >> id) && !(one >> rest), "--ids: '", item, "' is not an integer id");
        ids.push_back(id);
    }
    return ids;
}

void print_encoding(const Tokenizer& tok, const std::string& text, const TokenizeOptions& o) {
    const auto ids = tok.encode(text, !o.no_special);
    if (o.show_tokens) {
        for (int64_t id : ids) std::cout << id << "\t" << tok.id_to_token(id) << "\n";
        return;
    }
    for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
}

void run_tokenize(const TokenizeOptions& o) {
    const Tokenizer tok = Tokenizer::from_file(o.tokenizer);
    if (o.decode) {
        KILN_CHECK(!o.ids.empty(), "--decode needs --ids");
        std::cout << tok.decode(parse_ids(o.ids), o.no_special) << "\n";
        return;
    }
    std::string text = o.text;
    if (!o.file.empty()) {
        std::ifstream f(o.file, std::ios::binary);
        KILN_CHECK(f, "cannot open '", o.file, "'");
        std::stringstream s;
        s << f.rdbuf();
        text = s.str();
    }
    if (o.roundtrip) {
        // decode(encode(x)) == x for each line (or the whole text): a lossless tokenizer.
        std::vector<std::string> items;
        if (o.lines) {
            std::stringstream in(text);
            for (std::string line; std::getline(in, line);) items.push_back(line);
        } else {
            items.push_back(text);
        }
        for (size_t i = 0; i < items.size(); ++i) {
            const std::string back = tok.decode(tok.encode(items[i], false));
            KILN_CHECK(back == items[i], "--roundtrip: ", o.lines ? "line " : "text ", i + 1,
                       " decodes to different text: '", back, "'");
        }
        std::cout << items.size() << (o.lines ? " lines" : " text") << " round-trip exactly\n";
        return;
    }
    if (!o.lines) {
        print_encoding(tok, text, o);
        return;
    }
    // One output line per input line (without its newline), for comparing with other tools.
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);) print_encoding(tok, line, o);
}

}  // namespace

Command add_tokenize_command(CLI::App& parent) {
    auto o = std::make_shared<TokenizeOptions>();
    CLI::App* app = parent.add_subcommand(
        "tokenize", "Encode text to token ids, or decode ids to text, with a tokenizer.json.");
    app->add_option("tokenizer", o->tokenizer,
                    "tokenizer.json, or a model folder holding one")
        ->required();
    app->add_option("-t,--text", o->text, "Text to encode");
    app->add_option("-f,--file", o->file, "Encode the contents of a file");
    app->add_flag("--lines", o->lines, "Encode each line separately, one line of ids each");
    app->add_flag("--tokens", o->show_tokens, "Print each id with its token string");
    app->add_flag("--no-special", o->no_special,
                  "Encode without the post-processor's special tokens; decode without special tokens");
    app->add_flag("-d,--decode", o->decode, "Decode --ids instead of encoding");
    app->add_option("--ids", o->ids, "Comma-separated ids to decode");
    app->add_flag("--roundtrip", o->roundtrip,
                  "Check that decoding the ids gives back the text (each line with --lines)");
    return {app, [o] { run_tokenize(*o); }};
}

}  // namespace kiln::tools
