// GPT-2's byte-level BPE: loading (weights JSON, or GPT-2's encoder.json + vocab.bpe)
// and encoding. Matches tiktoken's "gpt2" encoding (encode_ordinary) exactly; the test
// fixture tests/fixtures/tokenizer/gpt2_cases.json holds the proof.
//
// Encoding = pre-tokenize (include/tinygpt/pretokenize.h), map each pre-token's bytes
// to the byte tokens, then apply the ranked merges exactly as GPT-2's encoder.py does:
// repeatedly take the lowest-ranked adjacent pair present and merge all its occurrences,
// left to right, until no ranked pair is left. Results are cached per pre-token for the
// duration of one encode() call, so repeated words cost one hash look-up.
//
// Invalid UTF-8 in the text is an input error naming the byte offset: GPT-2's pattern is
// defined on characters, and tiktoken (which takes Unicode strings) has no answer for
// broken bytes that we could match.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_map>

#include "input_file.h"
#include "json_scan.h"
#include "pretokenize.h"
#include "tinygpt/error.h"
#include "tinygpt/tokenizer.h"
#include "utf8.h"

namespace tinygpt {

namespace {

constexpr std::uint32_t kNoRank = std::numeric_limits<std::uint32_t>::max();
constexpr std::string_view kEndOfText = "<|endoftext|>";

// GPT-2's bytes_to_unicode(): every byte gets a printable stand-in code point. The
// printable Latin-1 bytes stand for themselves; the others map to U+0100.. in byte order.
struct ByteAlphabet {
  std::array<char32_t, 256> to_cp{};
  std::array<std::int16_t, 0x144> from_cp{};  // code point -> byte, -1 if not in the alphabet

  ByteAlphabet() {
    from_cp.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      from_cp[to_cp[b]] = static_cast<std::int16_t>(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}

// A vocabulary entry in GPT-2's printable alphabet -> its bytes; nullopt if some
// character is outside the alphabet (or the entry is not valid UTF-8).
std::optional<std::string> printable_to_bytes(std::string_view s) {
  if (utf8::first_invalid(s)) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = utf8::decode_at(s, i);
    i += utf8::sequence_length(s, i);
    if (cp >= alphabet().from_cp.size() || alphabet().from_cp[cp] < 0) return std::nullopt;
    out += static_cast<char>(alphabet().from_cp[cp]);
  }
  return out;
}

std::string quote_token(std::string_view s) { return "\"" + utf8::sanitize(s) + "\""; }

// (left id, right id) -> (rank, merged id), open addressing with linear probing.
class MergeMap {
 public:
  struct Entry {
    std::uint64_t key = kEmpty;
    std::uint32_t rank = kNoRank;
    std::int32_t result = -1;
  };

  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    slots_.assign(cap, Entry{});
    mask_ = cap - 1;
  }

  // False if the pair is already there.
  bool insert(std::int32_t left, std::int32_t right, std::uint32_t rank, std::int32_t result) {
    const std::uint64_t key = pack(left, right);
    for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return false;
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, rank, result};
        return true;
      }
    }
  }

  const Entry* find(std::int32_t left, std::int32_t right) const {
    const std::uint64_t key = pack(left, right);
    for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }

  std::uint32_t rank(std::int32_t left, std::int32_t right) const {
    const Entry* e = find(left, right);
    return e ? e->rank : kNoRank;
  }

 private:
  static constexpr std::uint64_t kEmpty = std::numeric_limits<std::uint64_t>::max();
  static std::uint64_t pack(std::int32_t l, std::int32_t r) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(l)) << 32) | static_cast<std::uint32_t>(r);
  }
  static std::size_t hash(std::uint64_t k) {
    k ^= k >> 29;
    k *= 0xBF58476D1CE4E5B9ull;
    k ^= k >> 32;
    return static_cast<std::size_t>(k);
  }
  std::vector<Entry> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

struct BpeTables {
  std::array<std::int32_t, 256> byte_ids{};
  MergeMap merges;
  std::vector<std::int32_t> merge_results;                         // rank -> merged id
  std::vector<std::pair<std::int32_t, std::int32_t>> merge_parts;  // rank -> the two ids merged (to write it out)
  std::vector<std::uint32_t> byte_pair_ranks;  // [b1 * 256 + b2]: the rank of two byte tokens, a dense table

  // Appends the ids of one pre-token to `out`.
  void encode_piece(std::string_view piece, std::vector<std::int32_t>& out) const {
    if (piece.size() <= kShortPiece) {
      encode_short(piece, out);
    } else {
      encode_long(piece, out);
    }
  }

  // Short pieces: arrays and a linear scan for the best pair (as encoder.py and tiktoken).
  static constexpr std::size_t kShortPiece = 64;
  void encode_short(std::string_view piece, std::vector<std::int32_t>& out) const {
    std::int32_t sym[kShortPiece];
    std::uint32_t rank[kShortPiece];  // rank[i]: the pair (sym[i], sym[i+1])
    std::uint8_t from[kShortPiece];
    constexpr std::uint8_t kMerged = 0xFF;
    std::size_t m = piece.size();
    for (std::size_t i = 0; i < m; ++i) sym[i] = byte_ids[static_cast<unsigned char>(piece[i])];
    for (std::size_t i = 0; i + 1 < m; ++i)
      rank[i] = byte_pair_ranks[static_cast<unsigned char>(piece[i]) * 256u + static_cast<unsigned char>(piece[i + 1])];
    while (m > 1) {
      std::uint32_t best = kNoRank;
      for (std::size_t i = 0; i + 1 < m; ++i) best = std::min(best, rank[i]);
      if (best == kNoRank) break;
      const std::int32_t merged = merge_results[best];
      // Merge every occurrence of the best pair, left to right (ranks identify pairs).
      // from[w] is the old position of an unmerged symbol, or kMerged.
      std::size_t w = 0;
      for (std::size_t i = 0; i < m; ++w) {
        if (i + 1 < m && rank[i] == best) {
          sym[w] = merged;
          from[w] = kMerged;
          i += 2;
        } else {
          sym[w] = sym[i];
          from[w] = static_cast<std::uint8_t>(i);
          i += 1;
        }
      }
      m = w;
      // Pairs of two unmerged neighbours keep their rank (from[w] >= w, so it is not yet
      // overwritten); pairs touching a merged symbol are looked up again.
      for (std::size_t i = 0; i + 1 < m; ++i)
        rank[i] = (from[i] != kMerged && from[i + 1] != kMerged) ? rank[from[i]] : merges.rank(sym[i], sym[i + 1]);
    }
    out.insert(out.end(), sym, sym + m);
  }

  // Long pieces (e.g. a run of thousands of letters): a linked list and a heap keep it
  // O(n log n). Same result as encode_short: entries of the current lowest rank are
  // taken left to right, and pairs created meanwhile wait until that rank is done.
  void encode_long(std::string_view piece, std::vector<std::int32_t>& out) const {
    const std::size_t n = piece.size();
    std::vector<std::int32_t> sym(n);
    std::vector<std::int32_t> next(n), prev(n);
    for (std::size_t i = 0; i < n; ++i) {
      sym[i] = byte_ids[static_cast<unsigned char>(piece[i])];
      next[i] = i + 1 < n ? static_cast<std::int32_t>(i + 1) : -1;
      prev[i] = static_cast<std::int32_t>(i) - 1;
    }
    struct Cand {
      std::uint32_t rank;
      std::int32_t pos, left, right;
      bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<>> heap;
    std::vector<Cand> pending;
    auto candidate = [&](std::int32_t pos, std::vector<Cand>& into) {
      if (pos < 0 || next[pos] < 0) return;
      const std::uint32_t r = merges.rank(sym[pos], sym[next[pos]]);
      if (r != kNoRank) into.push_back({r, pos, sym[pos], sym[next[pos]]});
    };
    {
      std::vector<Cand> init;
      for (std::size_t i = 0; i + 1 < n; ++i) candidate(static_cast<std::int32_t>(i), init);
      heap = decltype(heap)(std::greater<>(), std::move(init));
    }
    std::uint32_t current = kNoRank;
    while (true) {
      if (heap.empty() || heap.top().rank != current) {
        if (!pending.empty()) {
          for (const Cand& c : pending) heap.push(c);
          pending.clear();
          continue;
        }
        if (heap.empty()) break;
        current = heap.top().rank;
      }
      const Cand c = heap.top();
      heap.pop();
      const std::int32_t right = next[c.pos];
      if (sym[c.pos] != c.left || right < 0 || sym[right] != c.right) continue;  // stale
      if (prev[c.pos] == -2) continue;                                           // removed
      sym[c.pos] = merge_results[c.rank];
      next[c.pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = c.pos;
      prev[right] = -2;  // removed
      next[right] = -1;
      candidate(prev[c.pos], pending);
      candidate(c.pos, pending);
    }
    for (std::int32_t i = 0; i >= 0; i = next[i]) out.push_back(sym[i]);
  }
};

namespace {

// Builds bytes_/index_ for a byte_bpe vocabulary {token: id}. `ctx` starts messages.
struct VocabResult {
  std::vector<std::string> written;  // id -> entry as written
  std::unordered_map<std::string, std::int32_t> index;
};

// One entry of a vocabulary of r.written.size() entries: its id must be an integer (`id`
// is empty when the value is not one) in 0..n-1 that no earlier entry took.
void place_vocab_entry(VocabResult& r, std::vector<bool>& seen, const std::string& ctx, const std::string& token,
                       std::optional<std::int64_t> id) {
  const std::size_t n = r.written.size();
  if (!id) throw_model_error(ctx + ": the id of " + quote_token(token) + " is not an integer");
  if (*id < 0 || static_cast<std::uint64_t>(*id) >= n)
    throw_model_error(ctx + ": id " + std::to_string(*id) + " of " + quote_token(token) +
                      " is out of range (ids must be 0.." + std::to_string(n - 1) + " for " + std::to_string(n) +
                      " entries)");
  const auto at = static_cast<std::size_t>(*id);
  if (seen[at])
    throw_model_error(ctx + ": id " + std::to_string(*id) + " is given to both " + quote_token(r.written[at]) +
                      " and " + quote_token(token));
  seen[at] = true;
  r.written[at] = token;
}

VocabResult read_bpe_vocab(const nlohmann::json& vocab, const std::string& ctx) {
  if (!vocab.is_object()) throw_model_error(ctx + " must be an object {token: id}");
  if (vocab.empty()) throw_model_error(ctx + " is empty");
  VocabResult r;
  r.written.resize(vocab.size());
  r.index.reserve(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& [token, value] : vocab.items()) {
    std::optional<std::int64_t> id;
    if (value.is_number_integer()) id = value.get<std::int64_t>();
    place_vocab_entry(r, seen, ctx, token, id);
    r.index.emplace(token, static_cast<std::int32_t>(*id));
  }
  return r;
}

// The same from a file's text, read as it is parsed (nlohmann's SAX interface): GPT-2's
// encoder.json has 50,257 entries, and building them as a DOM first (a std::map of json
// values, then copied out) took about half of a GPT-2 model's load time. The checks and
// messages are those of parse_json_unique_keys + read_bpe_vocab above; entries are checked
// in file order.
VocabResult read_bpe_vocab_text(std::string_view text, const std::string& ctx) {
  struct Reader : nlohmann::json_sax<nlohmann::json> {
    const std::string& ctx;
    VocabResult r;
    // The entries in file order: map nodes (which stay put) and their ids, if integers.
    std::vector<std::pair<std::pair<const std::string, std::int32_t>*, std::optional<std::int64_t>>> entries;
    int depth = 0;

    explicit Reader(const std::string& c) : ctx(c) {}
    // A scalar value: an entry's id when it is the value of a top-level key.
    bool scalar(std::optional<std::int64_t> id) {
      if (depth == 0) throw_model_error(ctx + " must be an object {token: id}");
      if (depth == 1) entries.back().second = id;
      return true;
    }
    bool open(bool object) {
      if (depth == 0 && !object) throw_model_error(ctx + " must be an object {token: id}");
      if (depth >= kMaxJsonDepth) throw_nested_too_deep(ctx);
      ++depth;  // a container as an entry's value leaves its id empty: "not an integer"
      return true;
    }
    bool null() override { return scalar(std::nullopt); }
    bool boolean(bool) override { return scalar(std::nullopt); }
    bool number_integer(number_integer_t v) override { return scalar(v); }
    bool number_unsigned(number_unsigned_t v) override {
      return scalar(
          static_cast<std::int64_t>(std::min<number_unsigned_t>(v, std::numeric_limits<std::int64_t>::max())));
    }
    bool number_float(number_float_t, const string_t&) override { return scalar(std::nullopt); }
    bool string(string_t&) override { return scalar(std::nullopt); }
    bool binary(binary_t&) override { return scalar(std::nullopt); }
    bool start_object(std::size_t) override { return open(true); }
    bool start_array(std::size_t) override { return open(false); }
    bool end_object() override { return --depth, true; }
    bool end_array() override { return --depth, true; }
    bool key(string_t& k) override {
      if (depth != 1) return true;  // inside a value that is already not an id
      const auto [it, fresh] = r.index.try_emplace(std::move(k), -1);
      if (!fresh) throw_duplicate_key(ctx, it->first);
      entries.emplace_back(&*it, std::nullopt);
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
      throw e;  // the caller names the file and quotes nlohmann's message
    }
  } reader(ctx);
  reader.r.index.reserve(text.size() / 16);
  nlohmann::json::sax_parse(text.begin(), text.end(), &reader);
  if (reader.entries.empty()) throw_model_error(ctx + " is empty");
  VocabResult& r = reader.r;
  r.written.resize(reader.entries.size());
  std::vector<bool> seen(reader.entries.size(), false);
  for (auto& [node, id] : reader.entries) {
    place_vocab_entry(r, seen, ctx, node->first, id);
    node->second = static_cast<std::int32_t>(*id);
  }
  return std::move(reader.r);
}

}  // namespace

void Tokenizer::finish_bpe(std::vector<std::string> written, std::vector<std::pair<std::string, std::string>> merges,
                           const std::string& vocab_ctx, const std::function<std::string(std::size_t)>& merge_ctx) {
  type_ = TokenizerType::byte_bpe;
  // GPT-2's <|endoftext|> is special whether or not the file names it bos/eos.
  if (const auto it = index_.find(std::string(kEndOfText)); it != index_.end()) add_special(it->second);

  bytes_.resize(written.size());
  for (std::size_t id = 0; id < written.size(); ++id) {
    if (is_special(static_cast<std::int32_t>(id))) {
      bytes_[id] = written[id];
      continue;
    }
    auto bytes = printable_to_bytes(written[id]);
    if (!bytes || bytes->empty())
      throw_model_error(vocab_ctx + ": entry " + quote_token(written[id]) + " (id " + std::to_string(id) +
                        ") is not in GPT-2's byte alphabet and is not a special token");
    bytes_[id] = std::move(*bytes);
  }

  auto tables = std::make_shared<BpeTables>();
  for (int b = 0; b < 256; ++b) {
    const std::string stand_in = utf8::encode(alphabet().to_cp[b]);
    const auto it = index_.find(stand_in);
    if (it == index_.end() || is_special(it->second)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      throw_model_error(vocab_ctx + " lacks the byte token " + quote_token(stand_in) + " (byte " + hex +
                        "): a byte-level vocabulary needs all 256");
    }
    tables->byte_ids[b] = it->second;
  }

  tables->merges.reserve(merges.size());
  tables->merge_results.reserve(merges.size());
  tables->merge_parts.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto id_of = [&](const std::string& token, const char* what) {
      const auto it = index_.find(token);
      if (it == index_.end())
        throw_model_error(merge_ctx(rank) + ": " + what + " " + quote_token(token) + " is not in the vocabulary");
      if (is_special(it->second))
        throw_model_error(merge_ctx(rank) + ": " + what + " " + quote_token(token) + " is a special token");
      return it->second;
    };
    const std::int32_t left = id_of(a, "token");
    const std::int32_t right = id_of(b, "token");
    const std::int32_t result = id_of(a + b, "the merged token");
    if (!tables->merges.insert(left, right, static_cast<std::uint32_t>(rank), result))
      throw_model_error(merge_ctx(rank) + ": the pair " + quote_token(a + " " + b) + " is listed twice (first at " +
                        merge_ctx(tables->merges.rank(left, right)) + ")");
    tables->merge_results.push_back(result);
    tables->merge_parts.emplace_back(left, right);
  }
  tables->byte_pair_ranks.resize(256 * 256);
  for (int b1 = 0; b1 < 256; ++b1)
    for (int b2 = 0; b2 < 256; ++b2)
      tables->byte_pair_ranks[b1 * 256 + b2] = tables->merges.rank(tables->byte_ids[b1], tables->byte_ids[b2]);
  bpe_ = std::move(tables);
}

namespace {

// "a b" -> {a, b}; nullopt unless exactly two non-empty parts split by one space.
std::optional<std::pair<std::string, std::string>> split_merge(std::string_view s) {
  const auto sp = s.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp + 1 == s.size() || s.find(' ', sp + 1) != std::string_view::npos)
    return std::nullopt;
  return std::make_pair(std::string(s.substr(0, sp)), std::string(s.substr(sp + 1)));
}

// GPT-2's encoder.json is 1 MB and vocab.bpe 0.5 MB; 64 MiB leaves room for far bigger
// vocabularies while refusing a wrong path such as /dev/zero.
constexpr std::uint64_t kMaxVocabFileBytes = std::uint64_t{64} << 20;

std::string read_whole_file(const std::string& path) {
  return read_input_file(path, kMaxVocabFileBytes, ErrorKind::model);
}

}  // namespace

Tokenizer Tokenizer::bpe_from_json(const nlohmann::json& j, const std::string& where) {
  const auto vocab = j.find("vocab");
  if (vocab == j.end()) throw_model_error(where + ": tokenizer.vocab is missing");
  if (vocab->is_array())
    throw_model_error(where +
                      ": tokenizer.vocab must be an object {token: id} for a byte_bpe tokenizer (a list is for char)");
  const auto merges = j.find("merges");
  if (merges == j.end() || !merges->is_array())
    throw_model_error(where + ": tokenizer.merges must be a list of \"a b\" strings for a byte_bpe tokenizer");
  if (const auto unk = j.find("unk_token"); unk != j.end() && !unk->is_null())
    throw_model_error(where + ": tokenizer.unk_token is only for char tokenizers (byte_bpe encodes any text)");

  Tokenizer t;
  VocabResult v = read_bpe_vocab(*vocab, where + ": tokenizer.vocab");
  t.index_ = std::move(v.index);
  t.set_specials(j, where);

  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(merges->size());
  for (std::size_t i = 0; i < merges->size(); ++i) {
    const auto& m = (*merges)[i];
    const std::string ctx = where + ": tokenizer.merges[" + std::to_string(i) + "]";
    if (!m.is_string()) throw_model_error(ctx + " is not a string");
    auto pair = split_merge(m.get_ref<const std::string&>());
    if (!pair)
      throw_model_error(ctx + " " + quote_token(m.get_ref<const std::string&>()) +
                        " is not two tokens separated by one space");
    pairs.push_back(std::move(*pair));
  }
  t.finish_bpe(std::move(v.written), std::move(pairs), where + ": tokenizer.vocab",
               [&](std::size_t i) { return where + ": tokenizer.merges[" + std::to_string(i) + "]"; });
  return t;
}

nlohmann::ordered_json Tokenizer::to_json() const {
  nlohmann::ordered_json j;
  auto specials = [&] {
    if (bos_) j["bos_token"] = bytes_[static_cast<std::size_t>(*bos_)];
    if (eos_) j["eos_token"] = bytes_[static_cast<std::size_t>(*eos_)];
    if (unk_) j["unk_token"] = bytes_[static_cast<std::size_t>(*unk_)];
  };
  if (type_ == TokenizerType::char_level) {
    j["type"] = "char";
    j["vocab"] = bytes_;
    specials();
    return j;
  }
  j["type"] = "byte_bpe";
  // Each entry as the file spelled it: a special token by its name, anything else in GPT-2's
  // printable byte alphabet (the inverse of printable_to_bytes, so the spelling round-trips).
  std::vector<std::string> written(bytes_.size());
  for (std::size_t id = 0; id < bytes_.size(); ++id) {
    if (is_special(static_cast<std::int32_t>(id))) {
      written[id] = bytes_[id];
      continue;
    }
    for (const char c : bytes_[id]) written[id] += utf8::encode(alphabet().to_cp[static_cast<unsigned char>(c)]);
  }
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (std::size_t id = 0; id < written.size(); ++id) vocab[written[id]] = id;
  j["vocab"] = std::move(vocab);
  nlohmann::ordered_json merges = nlohmann::ordered_json::array();
  for (const auto& [left, right] : bpe_->merge_parts)
    merges.push_back(written[static_cast<std::size_t>(left)] + " " + written[static_cast<std::size_t>(right)]);
  j["merges"] = std::move(merges);
  specials();
  return j;
}

Tokenizer Tokenizer::from_gpt2_files(const std::string& encoder_json_path, const std::string& vocab_bpe_path) {
  VocabResult v;
  try {
    const std::string text = read_whole_file(encoder_json_path);
    refuse_byte_order_mark(text, encoder_json_path);  // nlohmann would skip it silently
    v = read_bpe_vocab_text(text, encoder_json_path);
  } catch (const nlohmann::json::exception& e) {
    throw_model_error(encoder_json_path + ": not valid JSON (" + e.what() + ")");
  }
  Tokenizer t;
  t.index_ = std::move(v.index);
  if (const auto it = t.index_.find(std::string(kEndOfText)); it != t.index_.end()) {
    t.bos_ = it->second;
    t.eos_ = it->second;
    t.add_special(it->second);
  }

  // vocab.bpe: "#version: 0.2", then one merge per line, "a b", in rank order.
  const std::string text = read_whole_file(vocab_bpe_path);
  refuse_byte_order_mark(text, vocab_bpe_path);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::size_t> line_of;  // rank -> line number (1-based)
  std::size_t line_no = 0, blank_at = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && line.starts_with("#version")) continue;
    if (line.empty()) {
      if (!blank_at) blank_at = line_no;
      continue;
    }
    if (blank_at)
      throw_model_error(vocab_bpe_path + ": line " + std::to_string(blank_at) +
                        " is blank in the middle of the merges");
    auto pair = split_merge(line);
    if (!pair)
      throw_model_error(vocab_bpe_path + ": line " + std::to_string(line_no) + " " + quote_token(line) +
                        " is not two tokens separated by one space");
    pairs.push_back(std::move(*pair));
    line_of.push_back(line_no);
  }
  t.finish_bpe(std::move(v.written), std::move(pairs), encoder_json_path,
               [&](std::size_t rank) { return vocab_bpe_path + ": line " + std::to_string(line_of[rank]); });
  return t;
}

std::vector<std::int32_t> Tokenizer::encode_bpe(std::string_view text) const {
  if (const auto bad = utf8::first_invalid(text)) throw_invalid_utf8(text, *bad);
  const BpeTables& t = *bpe_;
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 16);
  // The cache: pre-token -> where its ids first went in `ids`. Direct-mapped (a new entry
  // replaces whatever shared its slot), so it stays small and fast however long the text;
  // it lives for this call only, which keeps encode() const and thread-safe.
  struct Slot {
    std::string_view piece;
    std::uint32_t start = 0, count = 0;
  };
  const std::size_t slots = text.size() < 4096 ? 256 : 32768;
  std::vector<Slot> cache(slots);
  pretok::for_each(text, [&](std::string_view piece) {
    if (piece.size() == 1) {
      ids.push_back(t.byte_ids[static_cast<unsigned char>(piece[0])]);
      return;
    }
    Slot& slot = cache[std::hash<std::string_view>{}(piece) & (slots - 1)];
    if (slot.piece == piece) {
      const std::size_t old = ids.size();
      ids.resize(old + slot.count);
      std::copy_n(ids.data() + slot.start, slot.count, ids.data() + old);
      return;
    }
    const std::size_t start = ids.size();
    t.encode_piece(piece, ids);
    slot = {piece, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(ids.size() - start)};
  });
  return ids;
}

}  // namespace tinygpt
