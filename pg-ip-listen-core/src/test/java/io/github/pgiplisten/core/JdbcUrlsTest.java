package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;

import org.junit.jupiter.api.Test;

class JdbcUrlsTest {

    private static final String URL = "jdbc:postgresql://localhost/app";

    @Test
    void passwordsInTheUrlAreMaskedWhereverTheUrlIsShown() {
        String url = "jdbc:postgresql://db:5432/app?user=app&password=s3cr%26t&ssl=true&sslPassword=k3y&Password=p";
        assertThat(JdbcUrls.withoutSecrets(url))
                .isEqualTo("jdbc:postgresql://db:5432/app?user=app&password=***&ssl=true&sslPassword=***&Password=***");
        assertThat(JdbcUrls.withoutSecrets(URL)).isEqualTo(URL);
    }

    @Test
    void onlyPostgresUrlsWithAValidPortAndEncodingAreReadable() {
        assertThat(JdbcUrls.isReadableUrl(URL)).isTrue();
        assertThat(JdbcUrls.isReadableUrl("jdbc:postgresql://db:5432,db2:5433/app?targetServerType=primary"))
                .isTrue();
        assertThat(JdbcUrls.isReadableUrl(null)).isFalse();
        assertThat(JdbcUrls.isReadableUrl("jdbc:mysql://db/app")).isFalse();
        assertThat(JdbcUrls.isReadableUrl("jdbc:postgresql://db:0/app")).isFalse();
        assertThat(JdbcUrls.isReadableUrl("jdbc:postgresql://db:65536/app")).isFalse();
        assertThat(JdbcUrls.isReadableUrl("jdbc:postgresql://db/app?options=%zz"))
                .isFalse();
    }

    @Test
    void theQueryMovesIntoThePropertiesDecodedWithoutOverridingOurs() {
        Properties properties = new Properties();
        properties.setProperty("ApplicationName", "ours");
        String url = JdbcUrls.withoutQuery(
                "jdbc:postgresql://db/app?user=a%20b&ApplicationName=theirs&ssl&&password=p%26q", properties);
        assertThat(url).isEqualTo("jdbc:postgresql://db/app");
        assertThat(properties)
                .containsEntry("user", "a b")
                .containsEntry("ApplicationName", "ours")
                .containsEntry("ssl", "")
                .containsEntry("password", "p&q")
                .hasSize(4);
    }

    @Test
    void aUrlWithoutAQueryIsKeptAndAddsNoProperties() {
        Properties properties = new Properties();
        assertThat(JdbcUrls.withoutQuery(URL, properties)).isEqualTo(URL);
        assertThat(properties).isEmpty();
    }

    @Test
    void theUrlsOwnServerOptionsAreFoundDecodedSoTheyCanBeKeptBeforeOurs() {
        assertThat(JdbcUrls.urlOptions("jdbc:postgresql://db/app?ssl=true&options=-c%20search_path%3Dx"))
                .isEqualTo("-c search_path=x");
        assertThat(JdbcUrls.urlOptions("jdbc:postgresql://db/app?ssl=true")).isEmpty();
        assertThat(JdbcUrls.urlOptions(URL)).isEmpty();
    }
}
