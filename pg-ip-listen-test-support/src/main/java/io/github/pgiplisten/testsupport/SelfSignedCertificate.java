package io.github.pgiplisten.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;

/**
 * A test server's TLS key and self-signed certificate, made on the spot with the JDK's own {@code keytool} (so no
 * {@code openssl} is needed) and written as PostgreSQL reads them: the certificate in PEM, the key in unencrypted
 * PKCS#8 PEM, readable by its owner alone (PostgreSQL refuses a key that others may read). An EC P-256 key: quick to
 * make, and every TLS version the server and the JDK share accepts it.
 */
final class SelfSignedCertificate {

    private static final String ALIAS = "server";
    private static final char[] STORE_PASSWORD = "pg-ip-listen-test".toCharArray();

    private SelfSignedCertificate() {}

    /** Makes a key and a certificate for 127.0.0.1 and localhost and writes them to the two files. */
    static void write(Path certificateFile, Path keyFile) throws IOException {
        Path scratch = Files.createTempDirectory("pg-ip-listen-tls-");
        Path store = scratch.resolve("server.p12");
        try {
            LocalPostgresServer.exec(
                    List.of(),
                    List.of(
                            keytool(),
                            "-genkeypair",
                            "-alias",
                            ALIAS,
                            "-keyalg",
                            "EC",
                            "-groupname",
                            "secp256r1",
                            "-dname",
                            "CN=127.0.0.1",
                            "-ext",
                            "SAN=ip:127.0.0.1,dns:localhost",
                            "-validity",
                            "30",
                            "-storetype",
                            "PKCS12",
                            "-keystore",
                            store.toString(),
                            "-storepass",
                            new String(STORE_PASSWORD),
                            "-noprompt"),
                    "keytool -genkeypair");
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                keys.load(in, STORE_PASSWORD);
            }
            byte[] certificate = keys.getCertificate(ALIAS).getEncoded();
            byte[] key = keys.getKey(ALIAS, STORE_PASSWORD).getEncoded(); // PKCS#8, as a PrivateKey encodes itself
            Files.writeString(certificateFile, pem("CERTIFICATE", certificate), StandardCharsets.US_ASCII);
            Files.deleteIfExists(keyFile);
            Files.createFile(
                    keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(keyFile, pem("PRIVATE KEY", key), StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException ex) {
            throw new IOException("Cannot read the key and certificate keytool made in " + store + ": " + ex, ex);
        } finally {
            Files.deleteIfExists(store);
            Files.deleteIfExists(scratch);
        }
    }

    private static String keytool() throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (!Files.isExecutable(keytool)) {
            throw new IOException(
                    "No keytool at " + keytool + ": a test server with TLS needs a JDK to make its " + "certificate");
        }
        return keytool.toString();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
