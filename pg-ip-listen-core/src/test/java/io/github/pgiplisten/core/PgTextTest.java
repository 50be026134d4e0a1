package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class PgTextTest {

    @Test
    void aShortTextIsShownWholeAndALongOneCutWithItsLength() {
        assertThat(PgText.preview("orders", 80)).isEqualTo("orders");
        assertThat(PgText.preview("abcdef", 3)).isEqualTo("abc… (6 chars)");
        assertThat(PgText.preview(null, 3)).isEqualTo("null");
    }

    @Test
    void theLengthIsCountedInUtf8BytesAsTheServerCountsIt() {
        for (String text : new String[] {"", "a", "é", "€", "😀", "a€😀é", "€".repeat(2700)}) {
            assertThat(PgText.utf8Length(text, "text", IllegalArgumentException::new))
                    .as(text)
                    .isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    @Test
    void textPostgresCannotHoldIsRefusedWithTheCallersExceptionAndWhere() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PgText.utf8Length("ab\0c", "Channel name 'x'", IllegalArgumentException::new))
                .withMessage("Channel name 'x' contains a NUL character at index 2; PostgreSQL text cannot hold NUL");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PgText.utf8Length("a\uD800", "Payload", IllegalArgumentException::new))
                .withMessageContaining("unpaired UTF-16 surrogate at index 1");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PgText.utf8Length("\uDC00a", "Payload", IllegalArgumentException::new))
                .withMessageContaining("unpaired UTF-16 surrogate at index 0");
    }
}
