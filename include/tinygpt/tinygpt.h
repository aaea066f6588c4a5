#pragma once
// tiny-gpt's core library in one include: load a model, tokenize, run the forward pass,
// sample, generate, score. Link tinygpt::tinygpt (CMake: find_package(tinygpt)).
//
// The inspection library (tinygpt::inspect) adds looking inside a model, each as data
// plus views: tinygpt/attention_dump.h (every head's attention) and tinygpt/embedding.h
// (the embedding table's geometry).
//
// Reading order, following the data: load.h -> model.h (Config, Weights, Model) ->
// tokenizer.h -> decoder.h (State, forward) -> sampler.h -> generate.h; perplexity.h
// scores text; error.h is what every call may throw.
#include "tinygpt/attention.h"
#include "tinygpt/coverage.h"
#include "tinygpt/decoder.h"
#include "tinygpt/error.h"
#include "tinygpt/generate.h"
#include "tinygpt/isa.h"
#include "tinygpt/load.h"
#include "tinygpt/model.h"
#include "tinygpt/penalties.h"
#include "tinygpt/perplexity.h"
#include "tinygpt/sampler.h"
#include "tinygpt/save.h"
#include "tinygpt/stop_strings.h"
#include "tinygpt/tokenizer.h"
#include "tinygpt/weight_store.h"
