package io.github.pgiplisten.core.connection;

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

    /** A TLS record: its content type, version 1.2 (as TLS 1.3 records say too), a length of the body alone. */
    private static byte[] record(int contentType, int bodyLength) {
        ByteBuffer record = ByteBuffer.allocate(5 + bodyLength);
        record.put((byte) contentType).putShort((short) 0x0303).putShort((short) bodyLength);
        return record.array();
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
        assertThat(framing.restOfFrame()).isEqualTo(2); // the rest of the header

        read(notification, 3, 5);
        assertThat(framing.restOfFrame()).isEqualTo(20);

        read(notification, 5, 24);
        assertThat(framing.restOfFrame()).isEqualTo(1);

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
        assertThat(framing.restOfFrame()).isEqualTo(3);
    }

    @Test
    void anAcceptedGssapiEncryptionRequestEndsTheFraming() {
        framing.writing(encryptionRequest(80877104));
        assertThat(framing.atBoundary()).isFalse();
        assertThat(framing.restOfFrame()).isEqualTo(1); // the one-byte answer

        read(new byte[] {'G'}, 0, 1);

        assertThat(framing.framed()).isFalse();
        assertThat(framing.atBoundary()).as("nothing better to go by").isTrue();
    }

    @Test
    void anAcceptedSslRequestIsFollowedByTlsRecordsWhoseLengthDoesNotCountTheHeader() {
        framing.writing(encryptionRequest(80877103));
        byte[] answerAndServerHello = ByteBuffer.allocate(1 + 5 + 90)
                .put((byte) 'S')
                .put(record(0x16, 90))
                .array();

        read(answerAndServerHello, 0, 4);
        assertThat(framing.tls()).isTrue();
        assertThat(framing.restOfFrame()).isEqualTo(2); // the rest of the record's header

        read(answerAndServerHello, 4, 50);
        assertThat(framing.restOfFrame()).isEqualTo(46);

        read(answerAndServerHello, 50, answerAndServerHello.length);
        assertThat(framing.atBoundary()).isTrue();
        assertThat(framing.framed()).isTrue();
    }

    @Test
    void aConnectionThatBeginsWithAClientHelloNegotiatesTlsDirectlyAndIsFramedByRecordsFromTheFirstByte() {
        framing.writing(ByteBuffer.wrap(record(0x16, 200))); // sslNegotiation=direct: no SSLRequest first

        // the server's records: a handshake, then application data of the longest kind (16 KiB and some)
        read(record(0x16, 122), 0, 127);
        assertThat(framing.atBoundary()).isTrue();
        byte[] applicationData = record(0x17, 16_384 + 256);
        read(applicationData, 0, 8000);
        assertThat(framing.restOfFrame()).isEqualTo(applicationData.length - 8000);
        read(applicationData, 8000, applicationData.length);
        assertThat(framing.atBoundary()).isTrue();
        assertThat(framing.tls()).isTrue();
    }

    @Test
    void aStartupPacketFirstKeepsTheMessageFramingAndALaterHandshakeByteChangesNothing() {
        framing.writing(ByteBuffer.allocate(40).putInt(40).putInt(196608).flip()); // protocol 3.0
        framing.writing(ByteBuffer.wrap(record(0x16, 3))); // not the first bytes: not a ClientHello

        read(message('R', 4), 0, 6);
        assertThat(framing.tls()).isFalse();
        assertThat(framing.restOfFrame()).isEqualTo(3);
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
