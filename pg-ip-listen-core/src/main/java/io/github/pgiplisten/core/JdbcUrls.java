package io.github.pgiplisten.core;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * PostgreSQL JDBC URLs as the engine reads, shows and connects with them. Kept apart from the options because the
 * same rules serve the options' checks, every log line that names the URL, and the Spring layer's start-up advice.
 */
public final class JdbcUrls {

    private static final Pattern SECRET_PARAMETER = Pattern.compile("(?i)([?&](?:ssl)?password=)[^&]*");

    private JdbcUrls() {}

    /**
     * Whether the PostgreSQL driver can read a JDBC URL: {@code jdbc:postgresql:} with a port from 1 to 65535 and
     * %-encoded options. Whether the server is there is another question, answered when connecting.
     */
    public static boolean isReadableUrl(@Nullable String jdbcUrl) {
        return jdbcUrl != null
                && jdbcUrl.startsWith("jdbc:postgresql:")
                && org.postgresql.Driver.parseURL(jdbcUrl, null) != null;
    }

    /**
     * The JDBC URL as it may be logged or shown: the values of {@code password} and {@code sslpassword} parameters
     * become {@code ***}.
     */
    public static String withoutSecrets(String jdbcUrl) {
        return SECRET_PARAMETER.matcher(jdbcUrl).replaceAll("$1***");
    }

    /**
     * The URL without its query, whose parameters move into {@code properties} (ours win, except {@code options},
     * which is merged): pgjdbc lets URL parameters override properties, and a URL's {@code options} would otherwise
     * drop the keepalive and lock settings.
     */
    public static String withoutQuery(String url, Properties properties) {
        int query = url.indexOf('?');
        if (query < 0) {
            return url;
        }
        for (String parameter : url.substring(query + 1).split("&")) {
            int equals = parameter.indexOf('=');
            String name = decode(equals < 0 ? parameter : parameter.substring(0, equals));
            String value = equals < 0 ? "" : decode(parameter.substring(equals + 1));
            if (!name.isEmpty() && !properties.containsKey(name)) {
                properties.setProperty(name, value);
            }
        }
        return url.substring(0, query);
    }

    /** The {@code options} parameter of the URL, to keep before ours, or "". */
    public static String urlOptions(String url) {
        int query = url.indexOf('?');
        if (query >= 0) {
            for (String parameter : url.substring(query + 1).split("&")) {
                if (parameter.startsWith("options=")) {
                    return decode(parameter.substring("options=".length()));
                }
            }
        }
        return "";
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }
}
