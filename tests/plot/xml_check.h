#pragma once
// A strict little XML reader for the tests (a second implementation, not the writer's): elements,
// attributes in quotes, the five predefined entities and numeric references, comments, the XML
// declaration. Anything else (an unescaped '<' or '&', a mismatched or unclosed tag, a duplicate
// attribute, a control character) is an error, so "it parses" means "a browser's XML parser takes it".
#include <cctype>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tilesim::testing {

struct XmlNode {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::vector<std::unique_ptr<XmlNode>> children;
    std::string text;  // character data directly inside, entities decoded

    std::string attr(const std::string& k) const {
        auto it = attrs.find(k);
        return it == attrs.end() ? std::string() : it->second;
    }
    // Every element below (depth first) for which pred holds.
    template <typename F>
    void collect(F pred, std::vector<const XmlNode*>& out) const {
        for (const auto& c : children) {
            if (pred(*c)) out.push_back(c.get());
            c->collect(pred, out);
        }
    }
};

class XmlReader {
  public:
    explicit XmlReader(std::string s) : s_(std::move(s)) {}

    std::unique_ptr<XmlNode> parse() {
        skip_prolog();
        auto root = element();
        skip_space_and_comments();
        if (p_ != s_.size()) fail("content after the root element");
        return root;
    }

  private:
    [[noreturn]] void fail(const std::string& why) const {
        throw std::runtime_error("XML error at byte " + std::to_string(p_) + ": " + why);
    }
    bool starts(const char* t) const { return s_.compare(p_, std::char_traits<char>::length(t), t) == 0; }
    void skip_space() {
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\t' || s_[p_] == '\r')) ++p_;
    }
    void skip_space_and_comments() {
        for (;;) {
            skip_space();
            if (!starts("<!--")) return;
            const auto e = s_.find("-->", p_);
            if (e == std::string::npos) fail("unclosed comment");
            p_ = e + 3;
        }
    }
    void skip_prolog() {
        if (starts("<?xml")) {
            const auto e = s_.find("?>", p_);
            if (e == std::string::npos) fail("unclosed declaration");
            p_ = e + 2;
        }
        skip_space_and_comments();
    }
    static bool name_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
    }
    std::string name() {
        const auto b = p_;
        while (p_ < s_.size() && name_char(s_[p_])) ++p_;
        if (p_ == b) fail("expected a name");
        return s_.substr(b, p_ - b);
    }
    // Character data up to `stop`, with entities decoded; a raw '<' or '&' is an error.
    std::string chars(char stop) {
        std::string out;
        while (p_ < s_.size() && s_[p_] != stop) {
            const char c = s_[p_];
            if (c == '<' && stop != '<') fail("raw '<' in an attribute");
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r')
                fail("control character");
            if (c == '&') {
                const auto semi = s_.find(';', p_);
                if (semi == std::string::npos) fail("unterminated entity");
                const std::string ent = s_.substr(p_ + 1, semi - p_ - 1);
                if (ent == "amp")
                    out += '&';
                else if (ent == "lt")
                    out += '<';
                else if (ent == "gt")
                    out += '>';
                else if (ent == "quot")
                    out += '"';
                else if (ent == "apos")
                    out += '\'';
                else if (!ent.empty() && ent[0] == '#')
                    out += "?";  // numeric reference: accepted
                else
                    fail("unknown entity &" + ent + ";");
                p_ = semi + 1;
                continue;
            }
            out += c;
            ++p_;
        }
        return out;
    }
    std::unique_ptr<XmlNode> element() {
        if (p_ >= s_.size() || s_[p_] != '<') fail("expected '<'");
        ++p_;
        auto n = std::make_unique<XmlNode>();
        n->name = name();
        for (;;) {
            skip_space();
            if (starts("/>")) {
                p_ += 2;
                return n;
            }
            if (p_ < s_.size() && s_[p_] == '>') {
                ++p_;
                break;
            }
            const std::string k = name();
            skip_space();
            if (p_ >= s_.size() || s_[p_] != '=') fail("expected '=' after " + k);
            ++p_;
            skip_space();
            if (p_ >= s_.size() || (s_[p_] != '"' && s_[p_] != '\'')) fail("unquoted attribute " + k);
            const char q = s_[p_++];
            const std::string v = chars(q);
            if (p_ >= s_.size()) fail("unterminated attribute " + k);
            ++p_;
            if (!n->attrs.emplace(k, v).second) fail("duplicate attribute " + k);
        }
        for (;;) {
            n->text += chars('<');
            if (p_ >= s_.size()) fail("unclosed <" + n->name + ">");
            if (starts("<!--")) {
                skip_space_and_comments();
                continue;
            }
            if (starts("</")) {
                p_ += 2;
                if (name() != n->name) fail("mismatched </...> for <" + n->name + ">");
                skip_space();
                if (p_ >= s_.size() || s_[p_] != '>') fail("expected '>'");
                ++p_;
                return n;
            }
            n->children.push_back(element());
        }
    }

    std::string s_;
    std::size_t p_ = 0;
};

inline std::unique_ptr<XmlNode> parse_xml(const std::string& s) {
    return XmlReader(s).parse();
}

}  // namespace tilesim::testing
