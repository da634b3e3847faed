test_that("models are registered from files, versioned, found, listed and downloaded", {
  skip_if_no_runyard()
  fx <- local_workspace()
  saveRDS(list(coef = c(a = 1.5, b = -2)), file.path(fx$dir, "model.rds"))
  first <- register_model(fx$ws, file.path(fx$dir, "model.rds"), "glm-model", tags = list(stage = "dev"),
                          model_framework = "Custom")
  expect_s3_class(first, "runyard.model.Model")
  expect_identical(first$id, "glm-model:1")
  expect_identical(first$version, 1L)
  # The same file again is the same version; a changed file is the next one.
  again <- register_model(fx$ws, file.path(fx$dir, "model.rds"), "glm-model", tags = list(stage = "dev"),
                          model_framework = "Custom")
  expect_identical(again$version, 1L)
  saveRDS(list(coef = c(a = 2.5, b = -1)), file.path(fx$dir, "model.rds"))
  second <- register_model(fx$ws, file.path(fx$dir, "model.rds"), "glm-model", description = "retrained")

  expect_identical(get_model(fx$ws, "glm-model")$version, 2L)
  expect_identical(get_model(fx$ws, "glm-model", version = 1)$tags, list(stage = "dev"))
  expect_identical(get_model(fx$ws, id = "glm-model:1")$version, 1L)
  expect_identical(get_model(fx$ws, "glm-model", tags = list(stage = "dev"))$version, 1L)
  expect_identical(get_model(fx$ws, "glm-model", tags = "stage")$version, 1L)

  dir.create(file.path(fx$dir, "bundle", "sub"), recursive = TRUE)
  writeLines("a", file.path(fx$dir, "bundle", "vocab.txt"))
  writeLines("b", file.path(fx$dir, "bundle", "sub", "notes.txt"))
  folder <- register_model(fx$ws, file.path(fx$dir, "bundle"), "bundle")

  models <- list_models(fx$ws)
  expect_s3_class(models, "data.frame")
  expect_identical(names(models), c("name", "version", "id", "framework", "run_id", "created_time", "description"))
  expect_identical(models$id, c("bundle:1", "glm-model:1", "glm-model:2"))
  expect_identical(models$framework, c(NA, "Custom", NA))
  expect_s3_class(models$created_time, "POSIXct")
  expect_false(anyNA(models$created_time))
  expect_identical(list_models(fx$ws, latest = TRUE)$id, c("bundle:1", "glm-model:2"))
  expect_identical(list_models(fx$ws, tags = list(stage = "dev"))$id, "glm-model:1")
  expect_identical(nrow(list_models(fx$ws, name = "nothing")), 0L)

  out <- local_test_dir()
  path <- download_model(get_model(fx$ws, "glm-model", version = 1), target_dir = out)
  expect_identical(normalizePath(path), normalizePath(file.path(out, "model.rds")))
  expect_equal(readRDS(path), list(coef = c(a = 1.5, b = -2)))
  expect_runyard_error(download_model(second, target_dir = out), "runyard_config_error")
  expect_equal(readRDS(path), list(coef = c(a = 1.5, b = -2)))  # untouched
  download_model(second, target_dir = out, exist_ok = TRUE)
  expect_equal(readRDS(path), list(coef = c(a = 2.5, b = -1)))
  bundle <- download_model(folder, target_dir = out)
  expect_identical(readLines(file.path(bundle, "sub", "notes.txt")), "b")
})

test_that("a run's output is registered with the run and its datasets as lineage", {
  skip_if_no_runyard()
  fx <- local_workspace()
  saveRDS(1:3, file.path(fx$dir, "model.rds"))
  run <- start_logging_run(experiment(fx$ws, "train"))
  upload_files_to_run("outputs/model.rds", file.path(fx$dir, "model.rds"), run = run)
  complete_run(run)

  model <- register_model_from_run(run, "from-run", "outputs/model.rds", tags = list(team = "a"),
                                   datasets = list(list("training data", list(name = "iris", version = 2L))))
  expect_identical(model$run_id, run$id)
  expect_identical(model$version, 1L)
  expect_identical(model$serialize()$datasets[[1]],
                   list(name = "iris", scenario = "training data", version = 2L))
  expect_identical(list_models(fx$ws, run_id = run$id)$id, "from-run:1")
  out <- download_model(model, target_dir = local_test_dir())
  expect_identical(readRDS(out), 1:3)

  err <- expect_runyard_error(register_model_from_run(run, "from-run", "outputs/missing.rds"),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "outputs/model.rds", fixed = TRUE)
})

test_that("bad model arguments are clear errors", {
  skip_if_no_runyard()
  fx <- local_workspace()
  err <- expect_runyard_error(register_model(fx$ws, file.path(fx$dir, "nope.rds"), "m"), "runyard_config_error")
  expect_match(conditionMessage(err), "model_path '.*nope.rds' does not exist")
  writeLines("x", file.path(fx$dir, "m.txt"))
  expect_runyard_error(register_model(fx$ws, file.path(fx$dir, "m.txt"), "bad name!"), "runyard_config_error")
  err <- expect_runyard_error(register_model(fx$ws, file.path(fx$dir, "m.txt"), "m", datasets = list("iris")),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "datasets[0]: expected a (scenario, dataset) pair", fixed = TRUE)
  err <- expect_runyard_error(register_model(fx$ws, file.path(fx$dir, "m.txt"), "m", description = 5),
                              "runyard_config_error")
  expect_match(conditionMessage(err), "description must be a string", fixed = TRUE)
  expect_identical(nrow(list_models(fx$ws)), 0L)
  register_model(fx$ws, file.path(fx$dir, "m.txt"), "m")
  err <- expect_runyard_error(get_model(fx$ws, "m", version = 4), "runyard_not_found_error")
  expect_match(conditionMessage(err), "registered versions: 1")
  err <- expect_runyard_error(get_model(fx$ws), "runyard_config_error")
  expect_match(conditionMessage(err), "needs name= (the latest version) or id=", fixed = TRUE)
  # R calls the model's own method, so R says what `model` must be.
  expect_runyard_error(download_model("m"), "runyard_argument_error")
})
