package io.github.pgiplisten.core;

import java.nio.ByteBuffer;

/**
 * Where the server's messages begin and end in the bytes the driver reads (a type byte, then a length that counts
 * itself), so that a {@link WakeableSocket} read past its budget can end exactly at a message's end: only there does
 * the driver ask whether more is pending. It stops following once the stream is encrypted (TLS, GSSAPI), whose
 * records hide the boundaries. Only the owner thread uses it, and it allocates nothing per read.
 */
final class MessageFraming {

    private static final int SSL_REQUEST_CODE = 80877103;
    private static final int GSSENC_REQUEST_CODE = 80877104;

    /** False once the stream is encrypted: then no boundary is known, and no budget applies. */
    private boolean framed = true;
    /** One-byte answers to an SSL or GSSAPI encryption request still to come: they precede the framing. */
    private int unframedAnswers;
    /** Bytes of the current message not yet handed to the driver; with {@code headerRead}, 0 at a boundary. */
    private long messageLeft;
    private final byte[] header = new byte[5];
    private int headerRead;

    boolean framed() {
        return framed;
    }

    /** Whether the bytes handed to the driver so far end at a message's end. */
    boolean atBoundary() {
        return unframedAnswers == 0 && messageLeft == 0 && headerRead == 0;
    }

    /** Away from a boundary: how many bytes the driver may take without going past the current message. */
    long restOfMessage() {
        return unframedAnswers > 0 ? 1 : headerRead > 0 ? header.length - headerRead : messageLeft;
    }

    /** Bytes the driver is about to send: an SSLRequest or GSSENCRequest is answered by one byte, outside framing. */
    void writing(ByteBuffer source) {
        int at = source.position();
        if (source.remaining() == 8 && source.getInt(at) == 8
                && (source.getInt(at + 4) == SSL_REQUEST_CODE || source.getInt(at + 4) == GSSENC_REQUEST_CODE)) {
            unframedAnswers++;
        }
    }

    /** Follows the framing over bytes just handed to the driver. */
    void follow(byte[] bytes, int offset, int count) {
        int at = offset;
        int end = offset + count;
        while (at < end && framed) {
            if (unframedAnswers > 0) {
                unframedAnswers--;
                byte answer = bytes[at++];
                framed = answer != 'S' && answer != 'G'; // the server accepted: encrypted from here on
            } else if (messageLeft > 0) {
                int skip = (int) Math.min(messageLeft, end - at);
                messageLeft -= skip;
                at += skip;
            } else {
                header[headerRead++] = bytes[at++];
                if (headerRead == header.length) {
                    headerRead = 0;
                    int length = ((header[1] & 0xFF) << 24) | ((header[2] & 0xFF) << 16) | ((header[3] & 0xFF) << 8)
                            | (header[4] & 0xFF);
                    messageLeft = Math.max(0, length - 4L);
                }
            }
        }
    }
}
