// printable_text: what a server's words look like by the time they reach a log line,
// status.json or the overlay.
#include "core/text.h"

#include <gtest/gtest.h>

#include <string>

namespace dw {
namespace {

TEST(PrintableText, PlainAndNonAsciiTextIsUnchanged) {
  EXPECT_EQ(printable_text("Value not in list: ckpt_name"), "Value not in list: ckpt_name");
  const std::string accented = "Modèle introuvable: «v1-5» — 模型";
  EXPECT_EQ(printable_text(accented), accented);
}

TEST(PrintableText, ACharacterCutInTheMiddleBecomesOneReplacementCharacter) {
  const std::string e_acute = "\xC3\xA9";
  const std::string cut = "caf" + e_acute.substr(0, 1);  // "caf" + the first byte of é
  EXPECT_EQ(printable_text(cut), "caf\xEF\xBF\xBD");     // U+FFFD
  const std::string han = "\xE6\xA8\xA1";                // 模
  EXPECT_EQ(printable_text(han.substr(0, 2) + "x"), "\xEF\xBF\xBD\xEF\xBF\xBDx");
  EXPECT_TRUE(is_valid_utf8(printable_text(cut)));
}

TEST(PrintableText, MalformedSequencesAreReplacedByteByByte) {
  // A stray continuation byte, an overlong '/', a UTF-16 surrogate, a code point above U+10FFFF,
  // and bytes that never occur in UTF-8.
  for (const std::string bad : {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    const std::string out = printable_text("a" + bad + "b");
    EXPECT_TRUE(is_valid_utf8(out)) << out;
    EXPECT_FALSE(is_valid_utf8(bad));
    EXPECT_EQ(out.front(), 'a');
    EXPECT_EQ(out.back(), 'b');
    EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
    EXPECT_EQ(out.find(bad), std::string::npos);
  }
}

TEST(PrintableText, EscapeSequencesAndForgedLogLinesAreEscaped) {
  // A terminal escape that would clear the screen and turn the text red, and a newline followed by
  // what looks like one of our own log lines.
  const std::string hostile =
      "boom\x1b[2J\x1b[31mred\n[2026-12-03 05:00:00.000] [info] comfy: all good\r\x07\x7f";
  const std::string out = printable_text(hostile, 400);
  EXPECT_EQ(out,
            "boom\\x1b[2J\\x1b[31mred\\n[2026-12-03 05:00:00.000] [info] comfy: all good"
            "\\r\\x07\\x7f");
  for (const char c : out) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  EXPECT_EQ(printable_text("a\tb\\c"), "a\\tb\\\\c");
}

TEST(PrintableText, C1ControlsAndBidiOverridesAreEscaped) {
  // U+009B (a one-character CSI in some terminals) and U+202E (right-to-left override).
  EXPECT_EQ(printable_text("x\xC2\x9B"
                           "2Jy"),
            "x\\u009b2Jy");
  EXPECT_EQ(printable_text("file\xE2\x80\xAEgnp.exe"), "file\\u202egnp.exe");
}

TEST(PrintableText, LongTextIsCutAtACharacterBoundary) {
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "é";  // 200 bytes
  const std::string out = printable_text(long_text, 41);
  EXPECT_LE(out.size(), 41u);
  EXPECT_EQ(out.substr(out.size() - 3), "...");
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_EQ(out.size(), 3 + 2 * 19u);  // as many whole characters as fit next to the ellipsis
  // Exactly at the cap: nothing is cut.
  EXPECT_EQ(printable_text(std::string(40, 'x'), 40), std::string(40, 'x'));
  EXPECT_EQ(printable_text(std::string(41, 'x'), 40), std::string(37, 'x') + "...");
  // Escapes count as what they take in the output.
  EXPECT_LE(printable_text(std::string(1000, '\x1b'), 64).size(), 64u);
}

}  // namespace
}  // namespace dw
