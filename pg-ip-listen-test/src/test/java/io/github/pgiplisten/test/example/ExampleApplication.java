package io.github.pgiplisten.test.example;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The application the README's test example belongs to: any Spring Boot application with the starter. */
@SpringBootApplication
public class ExampleApplication {}
