package io.github.pgiplisten.core.connection;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;

/**
 * The socket of one of the driver's cancel requests, which tells whether the request went out: the driver connects,
 * writes the request and reads until the server closes the connection, and it ignores any failure on the way
 * ({@code QueryExecutorBase.sendQueryCancel} catches the IOException). A request counts as sent once its connection
 * opened and the request was written; only one whose connection or write failed surely never reached the server, and
 * is sent again. What happens after the write does not count against it: a server that takes longer than the
 * driver's cancel timeout to close the connection, or a proxy that resets it, may still have signalled the backend,
 * and a second request to a statement that caught the first would fail it.
 */
final class CancelSocket extends Socket {

    private volatile boolean connected;
    private volatile boolean written;

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        super.connect(endpoint, timeout);
        connected = true;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        return new FilterOutputStream(super.getOutputStream()) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                written = true;
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                out.write(bytes, offset, length);
                written = true;
            }
        };
    }

    /** Whether the request was written on an open connection. */
    boolean sent() {
        return connected && written;
    }
}
