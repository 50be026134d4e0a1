package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

class MessageFramingTest {

    private final MessageFraming framing = new MessageFraming();

    /** A server message: its type, a length that counts itself, and {@code bodyLength} bytes. */
    private static byte[] message(char type, int bodyLength) {
        ByteBuffer message = ByteBuffer.allocate(5 + bodyLength);
        message.put((byte) type).putInt(4 + bodyLength);
        return message.array();
    }

    private void read(byte[] bytes, int from, int to) {
        framing.follow(bytes, from, to - from);
    }

    private static ByteBuffer encryptionRequest(int code) {
        return ByteBuffer.allocate(8).putInt(8).putInt(code).flip();
    }

    @Test
    void aMessageReadInPiecesEndsAtItsLastByte() {
        byte[] notification = message('A', 20);
        assertThat(framing.atBoundary()).isTrue();

        read(notification, 0, 3);
        assertThat(framing.atBoundary()).isFalse();
        assertThat(framing.restOfMessage()).isEqualTo(2); // the rest of the header

        read(notification, 3, 5);
        assertThat(framing.restOfMessage()).isEqualTo(20);

        read(notification, 5, 24);
        assertThat(framing.restOfMessage()).isEqualTo(1);

        read(notification, 24, 25);
        assertThat(framing.atBoundary()).isTrue();
        assertThat(framing.framed()).isTrue();
    }

    @Test
    void severalMessagesInOneReadAreFollowedToTheLastOnesEnd() {
        byte[] first = message('A', 7);
        byte[] second = message('Z', 1);
        byte[] empty = message('1', 0);
        ByteBuffer together = ByteBuffer.allocate(first.length + second.length + empty.length + 2);
        together.put(first).put(second).put(empty).put((byte) 'A').put((byte) 0);

        read(together.array(), 0, together.capacity() - 2);
        assertThat(framing.atBoundary()).isTrue();

        read(together.array(), together.capacity() - 2, together.capacity());
        assertThat(framing.atBoundary()).isFalse();
        assertThat(framing.restOfMessage()).isEqualTo(3);
    }

    @Test
    void anAcceptedEncryptionRequestEndsTheFraming() {
        framing.writing(encryptionRequest(80877103));
        assertThat(framing.atBoundary()).isFalse();
        assertThat(framing.restOfMessage()).isEqualTo(1); // the one-byte answer

        read(new byte[] {'S'}, 0, 1);

        assertThat(framing.framed()).isFalse();
    }

    @Test
    void aRefusedEncryptionRequestKeepsThePlainFraming() {
        framing.writing(encryptionRequest(80877104));
        read(new byte[] {'N'}, 0, 1);
        assertThat(framing.framed()).isTrue();
        assertThat(framing.atBoundary()).isTrue();

        read(message('R', 4), 0, 9);
        assertThat(framing.atBoundary()).isTrue();
    }

    @Test
    void otherWritesDoNotCountAsEncryptionRequests() {
        framing.writing(ByteBuffer.wrap(message('Q', 3)));
        framing.writing(ByteBuffer.allocate(8).putInt(8).putInt(80877102).flip()); // a cancel request's code

        assertThat(framing.atBoundary()).isTrue();
    }
}
