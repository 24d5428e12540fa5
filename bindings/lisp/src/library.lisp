;;;; Finding and loading libc10k.so.

(in-package #:c10k.ffi)

(defvar *library-path* nil
  "The file libc10k was loaded from, or NIL when the dynamic linker found it
by name in the standard library paths.")

(defun repository-build ()
  "libc10k.so in the repository's cargo output, relative to c10k.asd."
  (let ((root (asdf:system-relative-pathname "c10k" "../../")))
    (merge-pathnames "target/release/libc10k.so" root)))

(defun environment-library ()
  "The library C10K_LIB names: a file, or a directory holding libc10k.so."
  (let ((value (uiop:getenv "C10K_LIB")))
    (when (and value (plusp (length value)))
      (let ((path (uiop:parse-native-namestring value)))
        (if (uiop:directory-exists-p path)
            (merge-pathnames "libc10k.so" (uiop:ensure-directory-pathname path))
            path)))))

(defun load-library ()
  "Loads libc10k once: from C10K_LIB when set (and then only from there, so a
wrong setting is an error instead of a silent fallback), else from the
repository's target/release/, else by soname from the standard paths."
  (let ((env (environment-library)))
    (cond (env
           (unless (probe-file env)
             (error "C10K_LIB names ~A, which does not exist." env))
           (cffi:load-foreign-library env)
           (setf *library-path* (truename env)))
          ((probe-file (repository-build))
           (cffi:load-foreign-library (repository-build))
           (setf *library-path* (truename (repository-build))))
          (t
           (handler-case (cffi:load-foreign-library
                          '(:or "libc10k.so.0.2" "libc10k.so"))
             (cffi:load-foreign-library-error (e)
               (error "libc10k not found: set C10K_LIB, run `cargo build --release` ~
                       in the repository, or install the library (~A)." e)))))))

(load-library)
