package io.github.pgiplisten.core.connection;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketAddress;

/**
 * The socket of one of the driver's cancel requests, which tells whether the request reached the server: the driver
 * connects, writes the request and reads until the server closes the connection, which the server does once it has
 * signalled the backend, and it ignores any failure on the way ({@code QueryExecutorBase.sendQueryCancel} catches the
 * IOException). A request counts as delivered only when its connection opened and the server's end of stream was
 * read; one refused, timed out or reset before that did not, and is sent again.
 */
final class CancelSocket extends Socket {

    private volatile boolean connected;
    private volatile boolean endOfStream;

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        super.connect(endpoint, timeout);
        connected = true;
    }

    @Override
    public InputStream getInputStream() throws IOException {
        return new FilterInputStream(super.getInputStream()) {
            @Override
            public int read() throws IOException {
                return seen(super.read());
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                return seen(super.read(buffer, offset, length));
            }
        };
    }

    private int seen(int read) {
        if (read < 0) {
            endOfStream = true;
        }
        return read;
    }

    /** Whether the request went out on an open connection and the server then closed it. */
    boolean delivered() {
        return connected && endOfStream;
    }
}
