package io.github.pgiplisten.autoconfigure;

import java.lang.reflect.Type;

import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

import io.github.pgiplisten.PgPayloadConverter;

/** JSON payloads with the application's Jackson 3 {@link JsonMapper}. */
class JacksonPayloadConverter implements PgPayloadConverter {

    private final JsonMapper mapper;

    JacksonPayloadConverter(JsonMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public String write(Object value) {
        return mapper.writeValueAsString(value);
    }

    @Override
    public Object read(String payload, Type type) {
        JavaType javaType = mapper.constructType(type);
        return mapper.readValue(payload, javaType);
    }

    /** Builds and caches the type's deserializer in the mapper (a reader for a type locates it eagerly). */
    @Override
    public void prepare(Type type) {
        mapper.readerFor(mapper.constructType(type));
    }
}
