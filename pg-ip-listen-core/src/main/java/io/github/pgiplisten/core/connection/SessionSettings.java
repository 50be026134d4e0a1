package io.github.pgiplisten.core.connection;

import java.util.Properties;

import org.postgresql.PGProperty;

import io.github.pgiplisten.core.JdbcUrls;
import io.github.pgiplisten.core.PgListenOptions;

/**
 * What the listen session asks of the driver and the server when it starts: credentials, connect and cancel
 * timeouts, and the session settings that make failures short. They travel in the startup packet, so they cost no
 * round trip; the URL's own {@code options} are kept before ours, and a URL parameter the driver would let override
 * a property is moved into the properties by {@link JdbcUrls#withoutQuery}.
 */
record SessionSettings(String url, Properties properties) {

    /** The URL (without its query) and the driver properties of a listen connection. */
    static SessionSettings of(PgListenOptions options) {
        Properties properties = new Properties();
        if (options.username() != null) {
            PGProperty.USER.set(properties, options.username());
        }
        if (options.password() != null) {
            PGProperty.PASSWORD.set(properties, options.password());
        }
        PGProperty.APPLICATION_NAME.set(properties, options.applicationName());
        int connectSeconds = (int)
                Math.max(1, Math.min(Integer.MAX_VALUE, options.probeTimeout().toSeconds()));
        PGProperty.CONNECT_TIMEOUT.set(properties, connectSeconds);
        PGProperty.LOGIN_TIMEOUT.set(properties, connectSeconds);
        PGProperty.TCP_KEEP_ALIVE.set(properties, true);
        long keepaliveBudget = options.tcpKeepalivesIdle().toMillis()
                + options.tcpKeepalivesInterval().toMillis() * options.tcpKeepalivesCount();
        // Session settings travel in the startup packet: no extra round trip. tcp_user_timeout covers the case
        // keepalives do not: a dead leader the server still tries to send notifications to.
        // client_connection_check_interval lets a standby's backend notice, while it waits for the lock, that its
        // client is gone, so a dead standby neither keeps its place in the queue nor takes the lock.
        PGProperty.OPTIONS.set(
                properties,
                String.join(
                        " ",
                        JdbcUrls.urlOptions(options.jdbcUrl()),
                        "-c client_connection_check_interval=1000",
                        "-c tcp_keepalives_idle=" + options.tcpKeepalivesIdle().toSeconds(),
                        "-c tcp_keepalives_interval="
                                + options.tcpKeepalivesInterval().toSeconds(),
                        "-c tcp_keepalives_count=" + options.tcpKeepalivesCount(),
                        "-c tcp_user_timeout=" + saturatedMillis(keepaliveBudget),
                        "-c lock_timeout="
                                + saturatedMillis(options.lockWaitTimeout().toMillis()),
                        "-c statement_timeout=0"));
        PGProperty.CANCEL_SIGNAL_TIMEOUT.set(properties, connectSeconds);
        String url = JdbcUrls.withoutQuery(options.jdbcUrl(), properties);
        // with several hosts and targetServerType, pgjdbc remembers which host was a standby and skips it for
        // hostRecheckSeconds (10 s): a replica promoted meanwhile would wait that long to be tried
        if (!properties.containsKey(PGProperty.HOST_RECHECK_SECONDS.getName())) {
            PGProperty.HOST_RECHECK_SECONDS.set(properties, 1);
        }
        return new SessionSettings(url, properties);
    }

    /** Milliseconds as a setting or a driver timeout takes them: at least 1, at most {@code Integer.MAX_VALUE}. */
    static int saturatedMillis(long millis) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
    }
}
