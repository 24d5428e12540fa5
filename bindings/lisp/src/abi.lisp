;;;; Refusing a library built for another ABI, at load time.

(in-package #:c10k)

(define-condition abi-mismatch (error)
  ((library-abi :initarg :library-abi :reader abi-mismatch-library-abi)
   (expected :initarg :expected :reader abi-mismatch-expected)
   (library-path :initarg :library-path :reader abi-mismatch-library-path))
  (:report (lambda (c stream)
             (format stream "libc10k ~@[at ~A ~]has ABI version ~D, but this binding ~
                             was written for C10K_ABI_VERSION ~D (include/c10k.h). ~
                             Rebuild the library from the same checkout, or point ~
                             C10K_LIB at a matching one."
                     (abi-mismatch-library-path c) (abi-mismatch-library-abi c)
                     (abi-mismatch-expected c))))
  (:documentation "Signalled at load when c10k_abi_version() differs from the
header's C10K_ABI_VERSION."))

(defun check-abi (&optional (expected +abi-version+))
  "Signals ABI-MISMATCH unless the loaded library speaks ABI EXPECTED, by
default the header's C10K_ABI_VERSION."
  (let ((abi (c10k-abi-version)))
    (unless (= abi expected)
      (error 'abi-mismatch :library-abi abi :expected expected
                           :library-path *library-path*))))

(defun library-version ()
  "The loaded library's version string, \"MAJOR.MINOR.PATCH\"."
  (c10k-version))

(check-abi)
