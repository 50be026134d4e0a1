package io.github.pgiplisten.core.connection;

import java.nio.ByteBuffer;

/**
 * Where the frames of the stream the driver reads begin and end, so that a {@link WakeableSocket} read past its budget
 * (or woken) can end exactly between two of them. On a plain connection the frames are the server's messages (a type
 * byte, then a length that counts itself): only between two does the driver ask whether more is pending. Once TLS
 * encrypts the stream they are TLS records (a content type, a version, then a 16-bit length that does not count the
 * header): the driver's SSL layer then reads record by record, and a timeout between two records leaves it in a clean
 * state. TLS begins after an accepted SSLRequest, or with the first bytes written when the driver negotiates TLS
 * directly ({@code sslNegotiation=direct}: a ClientHello where a startup packet would be). GSSAPI encryption has
 * boundaries of its own that this class does not follow: then none is known, and no budget applies. Only the owner
 * thread uses it, and it allocates nothing per read.
 */
final class MessageFraming {

    private static final int SSL_REQUEST_CODE = 80877103;
    private static final int GSSENC_REQUEST_CODE = 80877104;
    /** The content type of a TLS handshake record, the first byte a direct TLS connection sends. */
    private static final byte TLS_HANDSHAKE = 0x16;

    private enum Frames {
        MESSAGES,
        TLS_RECORDS,
        UNKNOWN
    }

    private Frames frames = Frames.MESSAGES;
    /** Whether the driver has written anything yet: only its first bytes can begin a direct TLS handshake. */
    private boolean written;
    /** One-byte answers to an SSL or GSSAPI encryption request still to come: they precede the framing. */
    private int unframedAnswers;
    /** Bytes of the current frame not yet handed to the driver; with {@code headerRead}, 0 at a boundary. */
    private long frameLeft;
    /** A message's and a TLS record's header are both five bytes long. */
    private final byte[] header = new byte[5];

    private int headerRead;

    /** False once GSSAPI encrypts the stream: then no boundary is known, and no budget applies. */
    boolean framed() {
        return frames != Frames.UNKNOWN;
    }

    /** Whether the stream is TLS-encrypted, so that its frames are TLS records. */
    boolean tls() {
        return frames == Frames.TLS_RECORDS;
    }

    /**
     * Whether the bytes handed to the driver so far end at a frame's end. True when no boundary is known (GSSAPI): a
     * caller then has nothing better to go by.
     */
    boolean atBoundary() {
        return unframedAnswers == 0 && frameLeft == 0 && headerRead == 0;
    }

    /** Away from a boundary: how many bytes the driver may take without going past the current frame. */
    long restOfFrame() {
        return unframedAnswers > 0 ? 1 : headerRead > 0 ? header.length - headerRead : frameLeft;
    }

    /**
     * Bytes the driver is about to send: an SSLRequest or GSSENCRequest is answered by one byte, outside framing; a
     * connection whose first bytes are a TLS handshake record negotiates TLS directly, so the server answers in TLS
     * records from its first byte on (a startup packet or request begins with its length's high byte, 0).
     */
    void writing(ByteBuffer source) {
        int at = source.position();
        if (!written && source.hasRemaining()) {
            written = true;
            if (source.get(at) == TLS_HANDSHAKE) {
                frames = Frames.TLS_RECORDS;
                return;
            }
        }
        if (frames == Frames.MESSAGES
                && source.remaining() == 8
                && source.getInt(at) == 8
                && (source.getInt(at + 4) == SSL_REQUEST_CODE || source.getInt(at + 4) == GSSENC_REQUEST_CODE)) {
            unframedAnswers++;
        }
    }

    /** Follows the framing over bytes just handed to the driver. */
    void follow(byte[] bytes, int offset, int count) {
        int at = offset;
        int end = offset + count;
        while (at < end && framed()) {
            if (unframedAnswers > 0) {
                unframedAnswers--;
                byte answer = bytes[at++];
                // the server accepted: encrypted from here on
                frames = answer == 'S' ? Frames.TLS_RECORDS : answer == 'G' ? Frames.UNKNOWN : frames;
            } else if (frameLeft > 0) {
                int skip = (int) Math.min(frameLeft, end - at);
                frameLeft -= skip;
                at += skip;
            } else {
                header[headerRead++] = bytes[at++];
                if (headerRead == header.length) {
                    headerRead = 0;
                    frameLeft = bodyLength();
                }
            }
        }
    }

    private long bodyLength() {
        if (frames == Frames.TLS_RECORDS) {
            return ((header[3] & 0xFF) << 8) | (header[4] & 0xFF);
        }
        long length = ((header[1] & 0xFFL) << 24)
                | ((header[2] & 0xFF) << 16)
                | ((header[3] & 0xFF) << 8)
                | (header[4] & 0xFF);
        return Math.max(0, length - 4);
    }
}
