// The header address-list parser; see address_list.h. Like the reference it
// works from right to left over the flat token list, grouping the tokens of
// each address under an address token and inserting the missing commas that
// resynchronise after bad syntax. The list lives in a small arena of nodes
// linked both ways while it is regrouped, then becomes a TokenList.
#include "mail/address_list.h"

#include "mail/address_quote.h"

#include <cstring>

namespace pf::mail {

namespace {

constexpr int kNil = -1;

struct Node {
    AddressToken tok;  // children unused here
    bool sentinel = false;
    int prev = kNil;
    int next = kNil;
    int head = kNil;  // address groups: first child
};

class Arena {
public:
    int make(AddressToken tok, bool sentinel = false) {
        nodes_.push_back(Node{std::move(tok), sentinel, kNil, kNil, kNil});
        return static_cast<int>(nodes_.size()) - 1;
    }
    Node& operator[](int i) { return nodes_[static_cast<std::size_t>(i)]; }

    void glue(int left, int right) {
        if (left != kNil) (*this)[left].next = right;
        if (right != kNil) (*this)[right].prev = left;
    }
    // Takes n out of its list; returns its predecessor.
    int unlink(int n) {
        int p = (*this)[n].prev, x = (*this)[n].next;
        glue(p, x);
        (*this)[n].prev = (*this)[n].next = kNil;
        return p;
    }
    // Puts the single node n just before at.
    void insert_before(int at, int n) {
        int p = (*this)[at].prev;
        glue(p, n);
        glue(n, at);
    }
    void insert_after(int at, int n) {
        int x = (*this)[at].next;
        glue(at, n);
        glue(n, x);
    }
    // Moves the nodes strictly between left and right under a new address
    // node placed there; with a sync character, a special token of that
    // character goes right after left. Returns left.
    int group(int left, int right, char sync) {
        if (left == right) return left;
        int first = (*this)[left].next;
        if (first == right) return left;
        int last = (*this)[right].prev;
        (*this)[first].prev = kNil;
        (*this)[last].next = kNil;
        AddressToken a;
        a.kind = TokenKind::address;
        int g = make(std::move(a));
        (*this)[g].head = first;
        glue(left, g);
        glue(g, right);
        if (sync) insert_after(left, make(AddressToken::special_token(sync)));
        return left;
    }

    TokenList to_list(int first) {
        TokenList out;
        for (int n = first; n != kNil; n = (*this)[n].next) {
            Node& node = (*this)[n];
            if (node.sentinel) continue;
            AddressToken t = std::move(node.tok);
            if (t.kind == TokenKind::address) t.children = to_list(node.head);
            out.push_back(std::move(t));
        }
        return out;
    }

private:
    std::vector<Node> nodes_;
};

constexpr unsigned kDoWord = 1u << 0;
constexpr unsigned kDoGroup = 1u << 1;

bool is_op(const Node& n, char c) { return !n.sentinel && n.tok.kind == TokenKind::special && n.tok.op == c; }

}  // namespace

TokenList parse_822_list(std::string_view header_value) { return parse_822_list(header_value, 0); }

TokenList parse_822_list(std::string_view header_value, std::size_t token_limit) {
    TokenList flat = scan_822(header_value, token_limit);
    if (flat.empty()) return {};
    Arena a;
    int head = a.make({}, true);
    int prev = head;
    for (auto& t : flat) {
        int n = a.make(std::move(t));
        a.glue(prev, n);
        prev = n;
    }
    int tail = a.make({}, true);
    a.glue(prev, tail);

    unsigned state = kDoWord;
    int right = tail;
    int tp = a[tail].prev;
    while (!a[tp].sentinel) {
        Node& node = a[tp];
        const TokenKind kind = node.tok.kind;
        if (kind == TokenKind::comment) {  // comments move out of the way
            int p = a.unlink(tp);
            a.insert_before(right, tp);
            right = tp;
            tp = p;
            continue;
        }
        if (is_op(node, ';')) {  // the end of a named group
            right = a.group(tp, right, ',');
            state = kDoGroup | kDoWord;
        } else if (is_op(node, ':') && (state & kDoGroup)) {
            a[tp].tok.kind = TokenKind::start_group;
            a.group(tp, right, 0);
            while (!a[tp].sentinel && !is_op(a[tp], ',')) tp = a[tp].prev;
            right = tp;
            continue;
        } else if (is_op(node, '>')) {  // the end of a <route address>
            right = a.group(tp, right, ',');
            while (!a[tp].sentinel && !is_op(a[tp], '<')) {
                if (a[tp].tok.kind == TokenKind::comment) {
                    int p = a.unlink(tp);
                    a.insert_before(right, tp);
                    right = tp;
                    tp = p;
                    continue;
                }
                tp = a[tp].prev;
            }
            a.group(tp, right, 0);
            while (!a[tp].sentinel) {
                const Node& n = a[tp];
                bool stop = n.tok.kind == TokenKind::special && std::strchr(">;,:", n.tok.op) != nullptr &&
                            n.tok.op != 0;
                if (stop) break;
                tp = a[tp].prev;
            }
            right = tp;
            state |= kDoWord;
            continue;
        } else if (kind == TokenKind::atom || kind == TokenKind::quoted_string || kind == TokenKind::domain_literal) {
            if (!(state & kDoWord)) right = a[a.group(tp, right, ',')].next;
            state &= ~kDoWord;
        } else if (is_op(node, ',')) {
            right = a.group(tp, right, 0);
            state |= kDoWord;
        } else {
            state |= kDoWord;
        }
        tp = a[tp].prev;
    }
    a.group(tp, right, 0);
    return a.to_list(a[head].next);
}

std::vector<HeaderAddress> header_addresses(std::string_view header_value) {
    std::vector<HeaderAddress> out;
    for (const auto& t : parse_822_list(header_value)) {
        if (t.kind != TokenKind::address) continue;
        HeaderAddress h;
        h.internal = internalize_822(t.children);
        h.external = quote_822_local(h.internal);
        out.push_back(std::move(h));
    }
    return out;
}

std::string rewrite_header_addresses(std::string_view header_value,
                                     const std::function<std::string(const std::string& internal)>& rewrite,
                                     unsigned externalize_flags) {
    TokenList list = parse_822_list(header_value);
    for (auto& t : list) {
        if (t.kind != TokenKind::address) continue;
        std::string internal = internalize_822(t.children);
        std::string replaced = rewrite(internal);
        if (replaced == internal) continue;
        // Re-tokenize the new address (in external form), as one address.
        TokenList fresh = scan_822(quote_822_local(replaced));
        t.children = std::move(fresh);
    }
    return externalize_822(list, externalize_flags);
}

}  // namespace pf::mail
